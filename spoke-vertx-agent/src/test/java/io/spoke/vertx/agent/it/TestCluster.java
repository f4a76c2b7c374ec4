package io.spoke.vertx.agent.it;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.AgentVerticle;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.NodeInfo;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.hub.HubVerticle;
import io.spoke.vertx.test.ProcessCleanup;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A hub and agents on this machine for integration tests: agents in this JVM (verticles), or in processes
 * of their own ({@link #startAgentProcess}) for tests that kill them. Every process it starts is tracked
 * for cleanup.
 */
final class TestCluster {

  static final long TIMEOUT_S = 90;

  final Vertx vertx;
  final ProcessCleanup processes;
  final HubVerticle hub;
  final Path logDir;
  final String hubHost;
  final List<SpokeClient> clients = new ArrayList<>();
  final List<AgentVerticle> agents = new ArrayList<>();

  private TestCluster(Vertx vertx, ProcessCleanup processes, HubVerticle hub, String hubHost, Path logDir) {
    this.vertx = vertx;
    this.processes = processes;
    this.hub = hub;
    this.hubHost = hubHost;
    this.logDir = logDir;
  }

  /**
   * Every test cluster runs with a cluster token, so that every test goes through authentication; options
   * that set a token or a token file of their own keep it.
   */
  static final String TOKEN = "it-token-" + java.util.UUID.randomUUID();

  static SecurityOptions withToken(SecurityOptions security) {
    if (security.getToken() == null && security.getTokenFile() == null) {
      security.setToken(TOKEN);
    }
    return security;
  }

  static TestCluster start(Vertx vertx, ProcessCleanup processes, HubOptions hubOptions) throws Exception {
    withToken(hubOptions.getSecurity());
    HubVerticle hub = new HubVerticle(hubOptions.setPort(0));
    await(vertx.deployVerticle(hub));
    return new TestCluster(vertx, processes, hub, hubOptions.getHost(), Files.createTempDirectory("spoke-it-logs"));
  }

  static TestCluster start(Vertx vertx, ProcessCleanup processes) throws Exception {
    return start(vertx, processes, new HubOptions());
  }

  AgentVerticle startAgent(AgentOptions options) throws Exception {
    withToken(options.getSecurity());
    AgentVerticle agent = new AgentVerticle(options.setHubPort(hub.actualPort()).setLogDir(logDir.toString()).setStopTimeout(2_000));
    await(vertx.deployVerticle(agent));
    await(agent.registered());
    agents.add(agent);
    return agent;
  }

  /** An agent in a process of its own, with the test's classpath, registered before this returns. */
  Process startAgentProcess(String nodeId, Map<String, String> env, String... args) throws Exception {
    return startAgentProcess(nodeId, env, List.of(), args);
  }

  /**
   * An agent in a process of its own, started through {@code prefix} (e.g. {@code ip netns exec host-1}), with
   * the test's classpath; registered before this returns.
   */
  Process startAgentProcess(String nodeId, Map<String, String> env, List<String> prefix, String... args) throws Exception {
    List<String> command = new ArrayList<>(prefix);
    command.addAll(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
      "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), "io.spoke.vertx.agent.AgentMain",
      "--hub", hubHost + ":" + hub.actualPort(), "--node-id", nodeId, "--log-dir", logDir.toString(), "--stop-timeout", "2000",
      "--token-file", tokenFile().toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
      .redirectOutput(ProcessBuilder.Redirect.appendTo(logDir.resolve("agent-" + nodeId + ".out").toFile()))
      .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    builder.environment().putAll(env);
    Process process = builder.start();
    processes.track(process.pid());
    awaitNode(nodeId);
    return process;
  }

  /** A file holding {@link #TOKEN}, readable by this user only, as an operator would keep it. */
  Path tokenFile() throws IOException {
    Path file = logDir.resolve("cluster.token");
    if (!Files.exists(file)) {
      Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
      Files.writeString(file, TOKEN + "\n");
    }
    return file;
  }

  NodeInfo awaitNode(String nodeId) throws Exception {
    SpokeClient client = client();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
    while (System.nanoTime() < deadline) {
      ClusterStatus status = await(client.status());
      for (NodeInfo node : status.nodes()) {
        if (node.id().equals(nodeId) && node.alive()) {
          return node;
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("node " + nodeId + " did not register; its output: " + agentOutput(nodeId));
  }

  String agentOutput(String nodeId) {
    try {
      return Files.readString(logDir.resolve("agent-" + nodeId + ".out"));
    } catch (IOException e) {
      return "(none: " + e.getMessage() + ")";
    }
  }

  SpokeClient client() {
    return client(new SpokeClientOptions());
  }

  SpokeClient client(SpokeClientOptions options) {
    withToken(options.getSecurity());
    SpokeClient client = SpokeClient.create(vertx, options.setHubHost(hubHost).setHubPort(hub.actualPort()));
    clients.add(client);
    return client;
  }

  /** Spawns with {@code client} and tracks the actor's process for cleanup after the test. */
  ActorHandle spawn(SpokeClient client, String type, String id, SpawnOptions options) throws Exception {
    ActorHandle actor = await(client.spawn(type, id, options));
    processes.track(actor.info().pid());
    return actor;
  }

  ActorHandle spawn(SpokeClient client, String type, String id) throws Exception {
    return spawn(client, type, id, new SpawnOptions());
  }

  void close() throws Exception {
    for (SpokeClient client : clients) {
      await(client.close());
    }
    for (AgentVerticle agent : agents) {
      await(vertx.undeploy(agent.deploymentID()));
    }
    await(vertx.undeploy(hub.deploymentID()));
    assertNoBlockedThreadsInActorLogs();
  }

  /**
   * Actor processes log Vert.x's blocked-thread warnings to their log files: a test whose actor methods blocked the
   * event loop fails. Warnings logged before the actor reported ready are start-up (class loading, first connect)
   * on a CPU shared by several JVMs starting at once: with eight actor JVMs on two cores that can take over the
   * 2 s limit in wall time without anything blocking, so they are not counted.
   */
  private void assertNoBlockedThreadsInActorLogs() throws IOException {
    try (java.util.stream.Stream<Path> files = Files.walk(logDir)) {
      for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".log"))::iterator) {
        java.util.List<String> lines = Files.readAllLines(file);
        boolean ready = false;
        for (int i = 0; i < lines.size(); i++) {
          ready |= lines.get(i).contains(") ready on port ");
          if (ready && lines.get(i).contains("has been blocked for")) {
            // The warning is followed by the blocked thread's stack: show where it was.
            String where = String.join("\n", lines.subList(i, Math.min(lines.size(), i + 40)));
            throw new AssertionError("an actor blocked its event loop (" + file + "):\n" + where);
          }
        }
      }
    }
  }

  /** Resident memory of a process, in KiB, from {@code /proc/<pid>/status}. */
  static long rssKb(long pid) throws IOException {
    return Files.readAllLines(Paths.get("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("VmRSS:"))
      .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst()
      .orElseThrow(() -> new IOException("no VmRSS for process " + pid));
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.await(TIMEOUT_S, TimeUnit.SECONDS);
  }
}
