// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.testkit;

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
import io.spoke.vertx.test.Await;
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
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A hub and agents on this machine for integration tests: agents in this JVM (verticles), or in processes of their
 * own ({@link #startAgentProcess}) for tests that kill them. Every cluster runs with a cluster token, so that every
 * test goes through authentication, and every process it starts is tracked for cleanup. A JUnit 5 extension:
 *
 * <pre>{@code
 * @RegisterExtension static ProcessCleanup processes = new ProcessCleanup();
 * @RegisterExtension final TestCluster cluster = new TestCluster(processes);
 *
 * @BeforeEach void start(Vertx vertx) throws Exception {
 *   cluster.start(vertx);
 *   cluster.startAgent(new AgentOptions().setGpus(2));
 * }
 * }</pre>
 *
 * After the test that started it (after the class, for one started in {@code @BeforeAll}) it closes the clients it
 * made, undeploys its agents and hub, and fails the test if an actor's log shows that the actor blocked its event loop
 * (Vert.x's blocked-thread warning); the {@link ProcessCleanup} then kills what is left. Registered after the
 * {@code ProcessCleanup}, it runs before it.
 */
public final class TestCluster implements BeforeEachCallback, AfterEachCallback, AfterAllCallback {

  /** How long the cluster waits for anything: {@link Await#TIMEOUT_S}. */
  public static final long TIMEOUT_S = Await.TIMEOUT_S;

  /** The cluster token of every test cluster; options that set a token or a token file of their own keep theirs. */
  public static final String TOKEN = "it-token-" + java.util.UUID.randomUUID();

  private final ProcessCleanup processes;
  private final List<SpokeClient> clients = new ArrayList<>();
  private final List<AgentVerticle> agents = new ArrayList<>();
  private Vertx vertx;
  private HubVerticle hub;
  private String hubHost;
  private Path logDir;
  private boolean inTest;
  private boolean startedInTest;
  private boolean warmPools;

  public TestCluster(ProcessCleanup processes) {
    this.processes = processes;
  }

  /** Sets the cluster token on {@code security}, unless it has a token or a token file of its own. */
  public static SecurityOptions withToken(SecurityOptions security) {
    if (security.getToken() == null && security.getTokenFile() == null) {
      security.setToken(TOKEN);
    }
    return security;
  }

  /** Starts the hub, with the cluster token, on a free port. */
  public TestCluster start(Vertx vertx) throws Exception {
    return start(vertx, new HubOptions());
  }

  /** Starts the hub with {@code hubOptions} (the cluster token unless they set their own), on a free port. */
  public TestCluster start(Vertx vertx, HubOptions hubOptions) throws Exception {
    if (hub != null) {
      throw new IllegalStateException("this test cluster is already started");
    }
    withToken(hubOptions.getSecurity());
    HubVerticle started = new HubVerticle(hubOptions.setPort(0));
    await(vertx.deployVerticle(started));
    this.vertx = vertx;
    this.hub = started;
    this.hubHost = hubOptions.getHost();
    this.logDir = Files.createTempDirectory("spoke-it-logs");
    this.startedInTest = inTest;
    return this;
  }

  public Vertx vertx() {
    return vertx;
  }

  public ProcessCleanup processes() {
    return processes;
  }

  public HubVerticle hub() {
    return hub;
  }

  public String hubHost() {
    return hubHost;
  }

  public int hubPort() {
    return hub.actualPort();
  }

  /** Where agents keep actor logs: one directory per test. */
  public Path logDir() {
    return logDir;
  }

  /** An agent in this JVM, with the cluster token and the cluster's log directory, registered before this returns. */
  /**
   * Agents started from here on keep the warm pool their options ask for. Without this, they keep none (the tests of
   * everything else spawn cold, as their assertions on processes and environments expect).
   */
  public TestCluster warmPools() {
    warmPools = true;
    return this;
  }

  public AgentVerticle startAgent(AgentOptions options) throws Exception {
    return startAgent(options, hub.actualPort());
  }

  /**
   * An agent in this JVM that reaches the hub through {@code hubPort} on the hub's host (a {@link
   * io.spoke.vertx.test.TcpRelay}'s, say), registered before this returns.
   */
  public AgentVerticle startAgent(AgentOptions options, int hubPort) throws Exception {
    withToken(options.getSecurity());
    if (!warmPools) {
      options.setWarmPool(0);
    }
    AgentVerticle agent = new AgentVerticle(options.setHubPort(hubPort).setLogDir(logDir.toString()).setStopTimeout(2_000));
    await(vertx.deployVerticle(agent));
    await(agent.registered());
    agents.add(agent);
    return agent;
  }

  /** Undeploys an agent of {@link #startAgent} (its actors stop with it). */
  public void stopAgent(AgentVerticle agent) throws Exception {
    agents.remove(agent);
    await(vertx.undeploy(agent.deploymentID()));
  }

  /** An agent in a process of its own, with the test's classpath, registered before this returns. */
  public Process startAgentProcess(String nodeId, Map<String, String> env, String... args) throws Exception {
    return startAgentProcess(nodeId, env, List.of(), args);
  }

  /**
   * An agent in a process of its own, started through {@code prefix} (e.g. {@code ip netns exec host-1}), with
   * the test's classpath; registered before this returns.
   */
  public Process startAgentProcess(String nodeId, Map<String, String> env, List<String> prefix, String... args) throws Exception {
    List<String> command = new ArrayList<>(prefix);
    command.addAll(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
      "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), "io.spoke.vertx.agent.AgentMain",
      "--hub", hubHost + ":" + hub.actualPort(), "--node-id", nodeId, "--log-dir", logDir.toString(), "--stop-timeout", "2000",
      "--token-file", tokenFile().toString()));
    if (!warmPools && !List.of(args).contains("--warm-pool")) {
      command.addAll(List.of("--warm-pool", "0"));
    }
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

  /**
   * A JVM with the test's class path running {@code main} with {@code args}, the cluster token in its environment
   * ({@value SecurityOptions#ENV_TOKEN}, where a {@code SpokeClient} finds it), standard input from /dev/null: to
   * redirect, start, and {@linkplain ProcessCleanup#track track}.
   */
  public static ProcessBuilder java(List<String> jvmOptions, String main, String... args) {
    List<String> command = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(), "-XX:+UseSerialGC"));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), main));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    builder.environment().put(SecurityOptions.ENV_TOKEN, TOKEN);
    return builder;
  }

  /** A file holding {@link #TOKEN}, readable by this user only, as an operator would keep it. */
  public Path tokenFile() throws IOException {
    Path file = logDir.resolve("cluster.token");
    if (!Files.exists(file)) {
      Files.createFile(file, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
      Files.writeString(file, TOKEN + "\n");
    }
    return file;
  }

  public NodeInfo awaitNode(String nodeId) throws Exception {
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

  public String agentOutput(String nodeId) {
    try {
      return Files.readString(logDir.resolve("agent-" + nodeId + ".out"));
    } catch (IOException e) {
      return "(none: " + e.getMessage() + ")";
    }
  }

  /** A client of this cluster, with its token; closed after the test. */
  public SpokeClient client() {
    return client(new SpokeClientOptions());
  }

  /** A client of this cluster with {@code options} (the cluster token unless they set their own); closed after the test. */
  public SpokeClient client(SpokeClientOptions options) {
    withToken(options.getSecurity());
    return closeAfterTest(SpokeClient.create(vertx, options.setHubHost(hubHost).setHubPort(hub.actualPort())));
  }

  /** Closes {@code client}, made by the test itself, with the cluster after the test; returns it. */
  public SpokeClient closeAfterTest(SpokeClient client) {
    clients.add(client);
    return client;
  }

  /** Spawns with {@code client} and tracks the actor's process for cleanup after the test. */
  public ActorHandle spawn(SpokeClient client, String type, String id, SpawnOptions options) throws Exception {
    ActorHandle actor = await(client.spawn(type, id, options));
    processes.track(actor.info().pid());
    return actor;
  }

  public ActorHandle spawn(SpokeClient client, String type, String id) throws Exception {
    return spawn(client, type, id, new SpawnOptions());
  }

  /**
   * Closes the clients, undeploys the agents and the hub, and fails if an actor blocked its event loop; after each test
   * (and at once where a test needs it gone). Once closed, closing again does nothing.
   */
  public void close() throws Exception {
    if (hub == null) {
      return;
    }
    HubVerticle closing = hub;
    hub = null;
    for (SpokeClient client : clients) {
      await(client.close());
    }
    clients.clear();
    for (AgentVerticle agent : agents) {
      await(vertx.undeploy(agent.deploymentID()));
    }
    agents.clear();
    await(vertx.undeploy(closing.deploymentID()));
    assertNoBlockedThreadsInActorLogs();
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    inTest = true;
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    inTest = false;
    if (startedInTest) {
      close();
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    close();
  }

  /**
   * Actor processes log Vert.x's blocked-thread warnings to their log files: a test whose actor methods blocked the
   * event loop fails. Warnings logged before the actor reported ready are start-up (class loading, first connect)
   * on a CPU shared by several JVMs starting at once: with eight actor JVMs on two cores that can take over the
   * 2 s limit in wall time without anything blocking, so they are not counted.
   */
  private void assertNoBlockedThreadsInActorLogs() throws IOException {
    try (java.util.stream.Stream<Path> files = Files.walk(logDir)) {
      for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".log"))
        .filter(f -> blockingAllowed.stream().noneMatch(id -> f.getFileName().toString().startsWith(id + "_")))::iterator) {
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

  /** Actors whose test blocks their event loop on purpose (a liveness test): their logs are not scanned. */
  private final java.util.Set<String> blockingAllowed = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** The test blocks actor {@code actorId}'s event loop on purpose: its log's blocked-thread warnings do not fail it. */
  public void allowBlockedEventLoop(String actorId) {
    blockingAllowed.add(actorId);
  }

  /** Resident memory of a process, in KiB, from {@code /proc/<pid>/status}. */
  public static long rssKb(long pid) throws IOException {
    return Files.readAllLines(Paths.get("/proc/" + pid + "/status")).stream().filter(l -> l.startsWith("VmRSS:"))
      .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst()
      .orElseThrow(() -> new IOException("no VmRSS for process " + pid));
  }

  private static <T> T await(Future<T> future) throws Exception {
    return Await.await(future);
  }
}
