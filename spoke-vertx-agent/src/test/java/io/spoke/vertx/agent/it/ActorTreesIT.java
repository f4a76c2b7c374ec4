// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static io.spoke.vertx.test.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.AgentVerticle;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Every actor host is a process tree of its own, as a managed process is: what a Java actor starts with a plain
 * ProcessBuilder, having left its session with {@code setsid}, ends with the actor at its stop, at its death, and at its
 * agent's death; a warm host's tree becomes its actor's.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class ActorTreesIT {

  /** A grandchild that leaves the actor's session and process group, and says its pid. */
  private static final String ESCAPE = "setsid sleep 600 >/dev/null 2>&1 </dev/null & echo $!";

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);

  private SpokeClient client;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    cluster.start(vertx);
    client = cluster.client();
  }

  private long escapee(ActorHandle actor) throws Exception {
    long pid = Long.parseLong(await(actor.call(TestActors.SHELL, ESCAPE, Serializers.STRING, Serializers.STRING)));
    processes.track(pid);
    until("the grandchild " + pid + " to run", () -> ProcessCleanup.alive(pid));
    return pid;
  }

  private static void gone(long pid, String when) throws Exception {
    until("the setsid grandchild " + pid + " to be gone " + when, () -> !ProcessCleanup.alive(pid));
  }

  @Test
  void whatAColdActorStartsEndsAtItsStopAndAtItsDeath() throws Exception {
    cluster.startAgent(new AgentOptions().setNodeId("t1"));
    ActorHandle stopped = cluster.spawn(client, "Echo", "stopped-with-child");
    long first = escapee(stopped);
    await(stopped.stop());
    ActorInfo end = await(client.resolve("stopped-with-child"));
    assertThat(end.reason()).isEqualTo("stopped");
    gone(first, "after its actor's stop");

    ActorHandle killed = cluster.spawn(client, "Echo", "killed-with-child");
    long second = escapee(killed);
    ProcessHandle.of(killed.info().pid()).orElseThrow().destroyForcibly();
    gone(second, "after its actor was SIGKILLed");
  }

  /** The janitors this JVM has started (one per agent), by the command line the agent gives them. */
  private static Set<Long> janitors() {
    return ProcessHandle.current().children().filter(p -> p.info().commandLine().orElse("").contains("spoke-janitor"))
      .map(ProcessHandle::pid).collect(Collectors.toSet());
  }

  @Test
  void anAgentThatStopsTakesItsJanitorWithIt() throws Exception {
    Set<Long> before = janitors();
    AgentVerticle agent = cluster.startAgent(new AgentOptions().setNodeId("t-janitor"));
    Set<Long> started = new HashSet<>();
    until("the agent's janitor to start", () -> {
      started.addAll(janitors());
      started.removeAll(before);
      return !started.isEmpty();
    });
    started.forEach(processes::track);
    // The janitor ignores signals while its agent lives, so the agent tells it as it stops: it sweeps and exits.
    cluster.stopAgent(agent);
    for (long pid : started) {
      until("janitor " + pid + " to exit with its agent", () -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    }
  }

  @Test
  void whatAWarmActorStartsEndsWithItsActor() throws Exception {
    cluster.warmPools();
    cluster.startAgent(new AgentOptions().setNodeId("t2").setWarmPool(1));
    until("a warm host", () -> await(client.status()).nodes().size() == 1 && warmHostPresent());
    ActorHandle warm = cluster.spawn(client, "Echo", "warm-with-child");
    long child = escapee(warm);
    await(warm.stop());
    gone(child, "after its warm actor's stop");
  }

  /** Whether a warm host runs: a JVM with SPOKE_WARM=1 in its environment, a child of this test's JVM's agent. */
  private static boolean warmHostPresent() {
    return ProcessHandle.current().descendants().anyMatch(p -> {
      try {
        byte[] environ = java.nio.file.Files.readAllBytes(java.nio.file.Paths.get("/proc", String.valueOf(p.pid()), "environ"));
        return new String(environ, java.nio.charset.StandardCharsets.UTF_8).contains("\0SPOKE_WARM=1\0");
      } catch (java.io.IOException e) {
        return false;
      }
    });
  }

  @Test
  void whatAnActorStartsEndsWhenItsAgentIsKilled() throws Exception {
    Process agent = cluster.startAgentProcess("t3", Map.of());
    ActorHandle actor = cluster.spawn(client, "Echo", "orphaned-with-child", new SpawnOptions().setNode("t3"));
    long child = escapee(actor);
    agent.destroyForcibly();
    gone(child, "after its agent was SIGKILLed");
  }

  @Test
  void withoutACgroupTheEnvironmentTagFindsWhatTheActorStarted() throws Exception {
    // Trees kept by their environment tag (no cgroup), as on hosts without a writable cgroup v2.
    cluster.startAgentProcess("t4", Map.of("JAVA_TOOL_OPTIONS", "-Dspoke.processTrees=environ"));
    ActorHandle actor = cluster.spawn(client, "Echo", "tagged-with-child", new SpawnOptions().setNode("t4"));
    long child = escapee(actor);
    await(actor.stop());
    gone(child, "after its actor's stop (environment tag)");
    assertThat(cluster.agentOutput("t4")).contains("Process trees kept by environment");
  }

  @Test
  void anExitIsToldOnlyOnceWhatTheInstanceLeftIsGone() throws Exception {
    // Trees found by their environment tag, and 150 processes left behind: killing them takes scans of /proc, long
    // enough to be seen by anyone who hears of the exit first.
    cluster.startAgentProcess("t5", Map.of("JAVA_TOOL_OPTIONS", "-Dspoke.processTrees=environ"), "--gpus", "1");
    java.nio.file.Path orphan = cluster.logDir().resolve("orphan.pid");
    io.spoke.vertx.client.ManagedProcess p = await(client.spawnProcess("leaves-many", new io.spoke.vertx.client.ProcessSpec(
      java.util.List.of("sh", "-c", "setsid sh -c 'for i in $(seq 150); do sleep 600 & done; echo $$ > " + orphan + "; wait' & "
        + "while [ ! -s " + orphan + " ]; do sleep 0.01; done; exit 3")), new SpawnOptions().setNode("t5").setGpus(1)));
    ActorInfo end = await(p.exit());
    // Its exit means its GPU is free for the next: nothing of it may still run then.
    java.util.List<Long> left = liveTagged("SPOKE_PROCESS_ID=leaves-many");
    left.forEach(processes::track);
    assertThat(end.exitCode()).isEqualTo(3);
    assertThat(left).as("what it left, alive when its exit is heard").isEmpty();
  }

  /** Live processes whose environment has {@code entry}. */
  private static java.util.List<Long> liveTagged(String entry) throws java.io.IOException {
    java.util.List<Long> found = new java.util.ArrayList<>();
    try (java.util.stream.Stream<java.nio.file.Path> proc = java.nio.file.Files.list(java.nio.file.Path.of("/proc"))) {
      for (java.nio.file.Path d : (Iterable<java.nio.file.Path>) proc.filter(x -> x.getFileName().toString().matches("\\d+"))::iterator) {
        try {
          String env = "\0" + new String(java.nio.file.Files.readAllBytes(d.resolve("environ")), java.nio.charset.StandardCharsets.ISO_8859_1);
          long pid = Long.parseLong(d.getFileName().toString());
          if (env.contains("\0" + entry + "\0") && ProcessCleanup.alive(pid)) {
            found.add(pid);
          }
        } catch (java.io.IOException gone) {
          // exited while listed
        }
      }
    }
    return found;
  }
}
