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
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The warm pool of actor hosts, for real: a warm actor gets exactly its own GPUs, arguments and environment (through
 * its context and the processes it starts, never its JVM's own environment) and a log of its own from its first line;
 * spawns that need a JVM of their own start cold; a warm host that dies idle (SIGKILL) is replaced, and every warm
 * host dies with its agent (SIGKILL); a pool whose JVMs cannot start leaves spawns cold, with a warning. And cold
 * starts take turns; those still waiting for theirs when the agent stops fail without a process.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class WarmPoolIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes).warmPools();

  private static String call(ActorHandle actor, int method, String arg) throws Exception {
    return await(actor.call(method, arg, Serializers.STRING, Serializers.STRING));
  }

  private static List<Long> warm(AgentVerticle agent, int idle) throws Exception {
    until(idle + " warm hosts", () -> await(agent.warmHostsIdle()) == idle && await(agent.warmHostPids()).size() == idle);
    List<Long> pids = await(agent.warmHostPids());
    pids.forEach(processes::track);
    return pids;
  }

  @Test
  void aWarmActorHasExactlyItsGpusArgumentsAndEnvironmentAndALogOfItsOwnFromItsFirstLine(Vertx vertx) throws Exception {
    cluster.start(vertx);
    AgentVerticle agent = cluster.startAgent(new AgentOptions().setNodeId("w1").setGpus(2).setWarmPool(2));
    List<Long> warm = warm(agent, 2);
    SpokeClient client = cluster.client();

    ActorHandle first = cluster.spawn(client, "Echo", "warm-a", new SpawnOptions().setGpus(1).setArgs(Buffer.buffer("args of a")));
    ActorHandle second = cluster.spawn(client, "Echo", "warm-b", new SpawnOptions().setGpus(1).setArgs(Buffer.buffer("args of b")));
    for (ActorHandle actor : List.of(first, second)) {
      ActorInfo info = actor.info();
      assertThat(warm).as(info.id() + " took a warm host").contains(info.pid());
      String gpu = String.valueOf(info.gpuIds().get(0));
      assertThat(call(actor, TestActors.CONTEXT_ENV, "CUDA_VISIBLE_DEVICES")).isEqualTo(gpu);
      assertThat(call(actor, TestActors.CHILD_ENV, "CUDA_VISIBLE_DEVICES")).as("a process it starts").isEqualTo(gpu);
      assertThat(call(actor, TestActors.CHILD_ENV, "SPOKE_ACTOR_TYPE")).isEqualTo("Echo");
      assertThat(call(actor, TestActors.ENV, "CUDA_VISIBLE_DEVICES")).as("its JVM was started seeing no GPU").isEmpty();
      assertThat(call(actor, TestActors.CONTEXT_ENV, "SPOKE_NODE_ID")).isEqualTo("w1");
      String log = Files.readString(Paths.get(info.logFile()));
      assertThat(log).startsWith("# Spoke actor '" + info.id() + "' of type Echo on node w1")
        .contains("# GPUs: [" + gpu + "]").contains("Actor " + info.id() + " (Echo) ready on").contains("in a warm host")
        .doesNotContain(info.id().equals("warm-a") ? "warm-b" : "warm-a");
    }
    assertThat(first.info().pid()).isNotEqualTo(second.info().pid());
    assertThat(first.info().gpuIds()).doesNotContainAnyElementsOf(second.info().gpuIds());
    assertThat(await(first.call(TestActors.ARGS, null, Serializers.VOID, Serializers.BUFFER)).toString()).isEqualTo("args of a");
    assertThat(await(second.call(TestActors.ARGS, null, Serializers.VOID, Serializers.BUFFER)).toString()).isEqualTo("args of b");

    // The pool refills; a spawn with an environment of its own, or one asked to start cold, gets a JVM of its own.
    List<Long> refilled = warm(agent, 2);
    assertThat(refilled).doesNotContainAnyElementsOf(warm);
    ActorHandle withEnv = cluster.spawn(client, "Echo", "cold-env", new SpawnOptions().setEnv(Map.of("MODEL", "llama")));
    ActorHandle cold = cluster.spawn(client, "Echo", "cold-asked", new SpawnOptions().setColdStart(true));
    for (ActorHandle actor : List.of(withEnv, cold)) {
      processes.track(actor.info().pid());
      assertThat(refilled).as(actor.info().id() + " started cold").doesNotContain(actor.info().pid());
      assertThat(call(actor, TestActors.ENV, "SPOKE_ACTOR_TYPE")).as("in its JVM's own environment").isEqualTo("Echo");
    }
    assertThat(call(withEnv, TestActors.ENV, "MODEL")).isEqualTo("llama");
    assertThat(call(withEnv, TestActors.CONTEXT_ENV, "MODEL")).isEqualTo("llama");
    assertThat(await(agent.warmHostPids())).containsExactlyInAnyOrderElementsOf(refilled);

    // A warm actor stops as any actor does, and its GPU is free again.
    await(first.stop());
    ActorHandle third = cluster.spawn(client, "Echo", "warm-c", new SpawnOptions().setGpus(1));
    assertThat(refilled).contains(third.info().pid());
    assertThat(third.info().gpuIds()).isEqualTo(first.info().gpuIds());
  }

  @Test
  void aWarmHostThatDiesIdleIsReplacedAndEveryWarmHostDiesWithItsAgent(Vertx vertx) throws Exception {
    cluster.start(vertx);
    Process agent = cluster.startAgentProcess("w2", Map.of(), "--gpus", "0", "--warm-pool", "2");
    List<Long> warm = warmHostsOf("w2", agent, 2, List.of());
    assertThat(cluster.agentOutput("w2")).contains("Keeping 2 warm actor host(s)");
    ProcessHandle.of(warm.get(0)).orElseThrow().destroyForcibly();
    List<Long> after = warmHostsOf("w2", agent, 2, List.of(warm.get(0)));
    assertThat(after).contains(warm.get(1)).doesNotContain(warm.get(0));
    // An actor can take the replacement.
    ActorHandle actor = cluster.spawn(cluster.client(), "Echo", "after-death");
    assertThat(after).contains(actor.info().pid());
    assertThat(call(actor, TestActors.HELLO, "replacement")).isEqualTo("Hello, replacement!");

    long taken = actor.info().pid();
    warmHostsOf("w2", agent, 2, List.of(taken));
    List<Long> all = agent.descendants().map(ProcessHandle::pid).collect(Collectors.toList());
    assertThat(all).contains(taken).hasSizeGreaterThanOrEqualTo(3);
    agent.destroyForcibly();
    until("every warm host and actor to die with their agent", () -> all.stream().noneMatch(p -> ProcessHandle.of(p)
      .map(ProcessHandle::isAlive).orElse(false)));
  }

  @Test
  void aPoolWhoseJvmsCannotStartLeavesSpawnsColdWithAWarning(Vertx vertx) throws Exception {
    cluster.start(vertx);
    Path wrapper = javaWrapper("if [ \"$SPOKE_WARM\" = 1 ]; then echo 'Unrecognized VM option BrokenOnPurpose' >&2; exit 1; fi");
    cluster.startAgentProcess("w3", Map.of(), "--gpus", "0", "--warm-pool", "2", "--java-command", wrapper.toString());
    until("the pool to give up for now", () -> cluster.agentOutput("w3").contains("in a row failed, so spawns start cold"));
    assertThat(cluster.agentOutput("w3")).contains("Unrecognized VM option BrokenOnPurpose");
    ActorHandle actor = cluster.spawn(cluster.client(), "Echo", "cold-anyway");
    processes.track(actor.info().pid());
    assertThat(call(actor, TestActors.HELLO, "cold")).isEqualTo("Hello, cold!");
    assertThat(call(actor, TestActors.ENV, "SPOKE_ACTOR_TYPE")).as("a cold JVM").isEqualTo("Echo");
  }

  @Test
  void coldStartsTakeTurnsAndThoseStillWaitingWhenTheAgentStopsFailWithoutAProcess(Vertx vertx) throws Exception {
    cluster.start(vertx);
    Process agent = cluster.startAgentProcess("w4", Map.of("JAVA_TOOL_OPTIONS", "-Dspoke.coldStartParallelism=1"), "--gpus", "0",
      "--warm-pool", "0");
    SpokeClient client = cluster.client();
    List<String> ids = List.of("turn-a", "turn-b", "turn-c", "turn-d", "turn-e");
    List<io.vertx.core.Future<ActorHandle>> spawns = new ArrayList<>();
    for (String id : ids) {
      spawns.add(client.spawn("Echo", id));
    }
    ActorHandle first = await(spawns.get(0));
    processes.track(first.info().pid());
    ActorHandle second = await(spawns.get(1));
    processes.track(second.info().pid());
    // In turns, in order (that a turn holds back the next is aSpawnWhoseTimeoutRunsOutWhileItWaitsForItsTurn...'s).
    until("turn-c to start", () -> cluster.agentOutput("w4").contains("Started actor turn-c"));
    String out = cluster.agentOutput("w4");
    assertThat(out.indexOf("Started actor turn-b")).as(out).isGreaterThan(out.indexOf("Started actor turn-a"));
    assertThat(out.indexOf("Started actor turn-c")).isGreaterThan(out.indexOf("Started actor turn-b"));

    agent.destroy();
    assertThat(agent.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(spawns.get(4).toCompletionStage().toCompletableFuture()).as("the last, still waiting for its turn")
      .failsWithin(java.time.Duration.ofSeconds(30)).withThrowableThat().withMessageContaining("waited for its JVM to start");
  }

  @Test
  void aSpawnWhoseTimeoutRunsOutWhileItWaitsForItsTurnFailsSayingSo(Vertx vertx) throws Exception {
    cluster.start(vertx);
    // The JVM of actor 'slow' takes 5 s to start: it holds the one turn all that time.
    Path wrapper = javaWrapper("if [ \"$SPOKE_ACTOR_ID\" = slow ]; then sleep 5; fi");
    cluster.startAgentProcess("w5", Map.of("JAVA_TOOL_OPTIONS", "-Dspoke.coldStartParallelism=1"), "--gpus", "0", "--warm-pool", "0",
      "--java-command", wrapper.toString());
    SpokeClient client = cluster.client();
    io.vertx.core.Future<ActorHandle> slow = client.spawn("Echo", "slow");
    Thread.sleep(200);
    assertThat(client.spawn("Echo", "impatient", new SpawnOptions().setTimeout(1_500)).toCompletionStage().toCompletableFuture())
      .failsWithin(java.time.Duration.ofSeconds(30)).withThrowableThat()
      .withMessageContaining("did not start within 1500 ms: it waited all that time for its JVM's turn to start");
    ActorHandle actor = await(slow);
    processes.track(actor.info().pid());
    assertThat(call(actor, TestActors.HELLO, "slow")).isEqualTo("Hello, slow!");
    ActorHandle after = cluster.spawn(client, "Echo", "after-the-wait");
    processes.track(after.info().pid());
    assertThat(call(after, TestActors.HELLO, "next")).isEqualTo("Hello, next!");
  }

  @Test
  void aSpawnStoppedWhileItWaitsForItsTurnEndsWithoutAProcessAndTheOthersStart(Vertx vertx) throws Exception {
    cluster.start(vertx);
    cluster.startAgentProcess("w6", Map.of("JAVA_TOOL_OPTIONS", "-Dspoke.coldStartParallelism=1"), "--gpus", "0", "--warm-pool", "0");
    SpokeClient client = cluster.client();
    List<io.vertx.core.Future<ActorHandle>> spawns = new ArrayList<>();
    for (String id : List.of("queue-a", "queue-b", "queue-c", "queue-d")) {
      spawns.add(client.spawn("Echo", id));
    }
    // One JVM starts at a time: the fourth waits for three, far longer than this.
    until("the four spawns to reach the hub", () -> await(client.status()).actors().size() == 4);
    await(client.stop("queue-d"));
    assertThat(spawns.get(3).toCompletionStage().toCompletableFuture()).failsWithin(java.time.Duration.ofSeconds(30))
      .withThrowableThat().withMessageContaining("actor 'queue-d' was stopped while it waited for its JVM to start");
    assertThat(await(client.resolve("queue-d")).state()).isEqualTo(io.spoke.vertx.client.ActorState.EXITED);
    for (int i = 0; i < 3; i++) {
      ActorHandle actor = await(spawns.get(i));
      processes.track(actor.info().pid());
      assertThat(call(actor, TestActors.HELLO, "queue")).isEqualTo("Hello, queue!");
    }
  }

  /** A java command for the agent (its {@code --java-command}) that runs {@code shellLine} first: the fault to inflict. */
  private Path javaWrapper(String shellLine) throws java.io.IOException {
    Path wrapper = Files.createTempFile(cluster.logDir(), "java-", ".sh");
    Files.writeString(wrapper, "#!/bin/sh\n" + shellLine + "\nexec " + Paths.get(System.getProperty("java.home"), "bin", "java")
      + " \"$@\"\n");
    Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwx------"));
    return wrapper;
  }

  /** The {@code count} warm hosts among the agent's children that wait for an actor, leaving out {@code others}. */
  private List<Long> warmHostsOf(String nodeId, Process agent, int count, List<Long> others) throws Exception {
    List<Long> pids = new ArrayList<>();
    until(count + " warm hosts of the agent", () -> {
      pids.clear();
      String out = cluster.agentOutput(nodeId);
      agent.descendants().filter(c -> !others.contains(c.pid())).filter(c -> out.contains("(pid " + c.pid() + ") waits for an actor"))
        .forEach(c -> pids.add(c.pid()));
      return pids.size() == count;
    });
    pids.forEach(processes::track);
    return new ArrayList<>(pids);
  }
}
