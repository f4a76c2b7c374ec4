// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static io.spoke.vertx.test.Await.awaitFailure;
import static io.spoke.vertx.test.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.ActorDeadException;
import io.spoke.vertx.InvalidRequestException;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Liveness;
import io.spoke.vertx.client.ManagedProcess;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Restart policies with real faults: a Java actor SIGKILLed again and again comes back in place (new pid, same id, same
 * GPUs) until its budget is spent; a process that fails at its first attempt runs again with {@code SPOKE_ATTEMPT=1} on
 * the same ports; a stop during a back-off is final.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class RestartIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);

  private SpokeClient client;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    cluster.start(vertx);
    cluster.startAgent(new AgentOptions().setNodeId("r1").setGpus(2));
    client = cluster.client();
  }

  private long pidOf(ActorHandle actor) throws Exception {
    return processes.track(await(actor.call(TestActors.PID, null, Serializers.VOID, Serializers.LONG)));
  }

  @Test
  void aJavaActorComesBackInPlaceAfterEachKillUntilItsBudgetIsSpentAndThenItsOwnerIsTold() throws Exception {
    List<ActorInfo> exits = new CopyOnWriteArrayList<>();
    client.actorExitHandler(exits::add);
    ActorHandle actor = cluster.spawn(client, "Echo", "phoenix", new SpawnOptions().setGpus(1)
      .setRestart(RestartPolicy.onFailure(2).withBackoffMs(200)));
    List<Integer> gpus = actor.info().gpuIds();
    long pid = pidOf(actor);
    for (int restart = 1; restart <= 2; restart++) {
      long killed = pid;
      ProcessHandle.of(killed).orElseThrow().destroyForcibly();
      // The hub hears of the death at once; the call after it waits for the next instance and reaches it.
      until("the hub to see actor phoenix die", () -> {
        ActorInfo now = await(client.resolve("phoenix"));
        return now.state() == ActorState.RESTARTING || now.pid() != killed;
      });
      assertThat(await(actor.call(TestActors.HELLO, "again", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, again!");
      pid = pidOf(actor);
      assertThat(pid).as("a new process").isNotEqualTo(killed);
      ActorInfo info = await(client.resolve("phoenix"));
      assertThat(info.state()).isEqualTo(ActorState.RUNNING);
      assertThat(info.gpuIds()).as("the same GPUs").isEqualTo(gpus);
      assertThat(info.restarts()).isEqualTo(restart);
      assertThat(await(actor.call(TestActors.ENV, "SPOKE_ATTEMPT", Serializers.STRING, Serializers.STRING)))
        .isEqualTo(String.valueOf(restart));
      assertThat(exits).as("no exit while it restarts").isEmpty();
    }
    long last = pid;
    ProcessHandle.of(last).orElseThrow().destroyForcibly();
    until("the owner to hear of the final exit", () -> !exits.isEmpty());
    assertThat(exits.get(0).id()).isEqualTo("phoenix");
    assertThat(exits.get(0).state()).isEqualTo(ActorState.EXITED);
    assertThat(exits.get(0).reason()).contains("killed by SIGKILL").contains("no restart left (2 within 600000 ms)");
    assertThat(awaitFailure(actor.call(TestActors.HELLO, "late", Serializers.STRING, Serializers.STRING)))
      .isInstanceOf(ActorDeadException.class);
    // Its GPU is free again: a 2-GPU spawn fits.
    ActorHandle both = cluster.spawn(client, "Echo", "both-gpus", new SpawnOptions().setGpus(2));
    assertThat(both.info().gpuIds()).hasSize(2);
  }

  @Test
  void aProcessThatFailsItsFirstAttemptRunsAgainOnTheSamePortsAndItsExitIsTheLastOnes() throws Exception {
    ManagedProcess p = await(client.spawnProcess("retry-1", new ProcessSpec(List.of("sh", "-c",
        "echo attempt $SPOKE_ATTEMPT port $SPOKE_PORT_0; [ \"$SPOKE_ATTEMPT\" -ge 1 ] || exit 3; echo ok")).setPorts(1),
      new SpawnOptions().setRestart(RestartPolicy.onFailure(2).withBackoffMs(100))));
    int port = p.ports().get(0);
    ActorInfo end = await(p.exit());
    assertThat(end.exitCode()).isZero();
    assertThat(end.restarts()).isEqualTo(1);
    String log = await(client.readLog("retry-1", 0, 1 << 20)).data().toString(StandardCharsets.UTF_8);
    assertThat(log).contains("attempt 0 port " + port).contains("attempt 1 port " + port).contains("ok");

    ManagedProcess never = await(client.spawnProcess("no-budget", new ProcessSpec(List.of("sh", "-c", "sleep 0.2; exit 3")),
      new SpawnOptions().setRestart(RestartPolicy.onFailure(0))));
    ActorInfo gaveUp = await(never.exit());
    assertThat(gaveUp.exitCode()).isEqualTo(3);
    assertThat(gaveUp.restarts()).isZero();
    assertThat(gaveUp.reason()).isEqualTo("exited with status 3; no restart left (0 within 600000 ms)");
  }

  @Test
  void aRestartThatCannotStartIsAnExitCountedAgainstTheBudgetAndTheOwnerHearsTheFinalOne() throws Exception {
    // The first attempt removes its own working directory: no next attempt can start there.
    Path workdir = Files.createTempDirectory("spoke-vanishing-workdir");
    ManagedProcess p = await(client.spawnProcess("no-workdir", new ProcessSpec(List.of("sh", "-c", "rm -rf '" + workdir + "'; exit 3"))
      .setWorkdir(workdir.toString()), new SpawnOptions().setRestart(RestartPolicy.onFailure(2).withBackoffMs(50))));
    ActorInfo end = await(p.exit());
    assertThat(end.state()).isEqualTo(ActorState.EXITED);
    assertThat(end.restarts()).as("both restarts were tried, and counted").isEqualTo(2);
    assertThat(end.reason()).startsWith("restart 2 could not start: ").contains("working directory " + workdir + " does not exist")
      .endsWith("no restart left (2 within 600000 ms)");
    ActorInfo known = await(client.resolve("no-workdir"));
    assertThat(known.state()).isEqualTo(ActorState.EXITED);
    assertThat(known.reason()).isEqualTo(end.reason());
  }

  @Test
  void aRestartWhoseLogWasRemovedStartsInANewLog() throws Exception {
    ManagedProcess p = await(client.spawnProcess("lost-log", new ProcessSpec(List.of("sh", "-c",
      "echo attempt $SPOKE_ATTEMPT; [ \"$SPOKE_ATTEMPT\" -ge 1 ] && exit 0; exec sleep 60")),
      new SpawnOptions().setRestart(RestartPolicy.onFailure(1).withBackoffMs(50))));
    long pid = processes.track(p.info().pid());
    Path log = Paths.get(p.info().logFile());
    // The log and its whole directory go while the first attempt runs; then it dies.
    Files.walk(log.getParent()).sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    ActorInfo end = await(p.exit());
    assertThat(end.exitCode()).as(end.reason()).isZero();
    assertThat(end.restarts()).isEqualTo(1);
    assertThat(Files.readString(log)).contains("# Spoke restarted process 'lost-log' (start 1)").contains("attempt 1");
  }

  @Test
  void aJavaActorWhoseNextInstanceCannotStartEndsWithItsBudgetSpentAndSaysWhy() throws Exception {
    List<ActorInfo> exits = new CopyOnWriteArrayList<>();
    client.actorExitHandler(exits::add);
    ActorHandle actor = cluster.spawn(client, "Echo", "no-log-dir", new SpawnOptions()
      .setRestart(RestartPolicy.onFailure(2).withBackoffMs(50)));
    // Its log's directory becomes a file: no next instance has anywhere to write.
    Path dir = Paths.get(actor.info().logFile()).getParent();
    Files.walk(dir).sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    Files.writeString(dir, "not a directory\n");
    ProcessHandle.of(pidOf(actor)).orElseThrow().destroyForcibly();
    until("its owner to hear that it ended", () -> !exits.isEmpty());
    ActorInfo end = exits.get(0);
    assertThat(end.restarts()).isEqualTo(2);
    assertThat(end.reason()).startsWith("restart 2 could not start: cannot start a process for actor 'no-log-dir' on node r1: ")
      .endsWith("no restart left (2 within 600000 ms)");
  }

  @Test
  void aLivenessCheckThatCannotBeReadIsRefusedAtTheSpawn() throws Exception {
    Throwable refused = awaitFailure(client.spawnProcess("bad-check", new ProcessSpec(List.of("sleep", "60"))
      .setEnv(java.util.Map.of("HEALTH_PORT", "not-a-port")), new SpawnOptions().setLiveness(Liveness.tcp("${HEALTH_PORT}"))));
    assertThat(refused).isInstanceOf(InvalidRequestException.class)
      .hasMessageContaining("the liveness check tcp:${HEALTH_PORT} needs a TCP port in 1..65535, but ${HEALTH_PORT} is 'not-a-port'");
    assertThat(await(client.status()).actors()).noneMatch(a -> a.id().equals("bad-check"));
    Throwable unknown = awaitFailure(client.spawn("Echo", "bad-actor-check", new SpawnOptions().setLiveness(Liveness.tcp("${NOWHERE}"))));
    assertThat(unknown).isInstanceOf(InvalidRequestException.class).hasMessageContaining("refers to ${NOWHERE}");
  }

  @Test
  void aStopDuringTheBackOffIsFinal() throws Exception {
    ManagedProcess p = await(client.spawnProcess("stopped-while-down", new ProcessSpec(List.of("sh", "-c", "sleep 0.2; exit 1")),
      new SpawnOptions().setRestart(RestartPolicy.always(5).withBackoffMs(30_000))));
    until("it to wait for its restart", () -> await(client.resolve("stopped-while-down")).state() == ActorState.RESTARTING);
    ActorInfo end = await(p.stop());
    assertThat(end.state()).isEqualTo(ActorState.EXITED);
    assertThat(end.reason()).isEqualTo("stopped while it waited to restart");
    assertThat(await(client.status()).actors()).noneMatch(a -> a.id().equals("stopped-while-down"));
  }

  @Test
  void anActorWhoseEventLoopIsBlockedForGoodFailsItsPingsAndIsRestarted() throws Exception {
    cluster.allowBlockedEventLoop("stuck");
    ActorHandle actor = cluster.spawn(client, "Echo", "stuck", new SpawnOptions()
      .setRestart(RestartPolicy.onFailure(1).withBackoffMs(100)).setLiveness(Liveness.ping().withInterval(300).withFailures(3)));
    long pid = pidOf(actor);
    actor.call(TestActors.HANG, null, Serializers.VOID, Serializers.VOID);
    until("the stuck actor to be replaced", () -> {
      ActorInfo now = await(client.resolve("stuck"));
      return now.state() == ActorState.RUNNING && now.pid() != pid;
    });
    ActorInfo info = await(client.resolve("stuck"));
    assertThat(info.restarts()).isEqualTo(1);
    processes.track(info.pid());
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("the stuck instance").isFalse();
    assertThat(await(actor.call(TestActors.HELLO, "unstuck", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, unstuck!");
  }

  @Test
  void aServerThatStopsAnsweringHttpIsKilledAndRestarted() throws Exception {
    ManagedProcess server = await(client.spawnProcess("mute", new ProcessSpec(List.of("sh", "-c",
        "exec python3 -m http.server --bind 127.0.0.1 $SPOKE_PORT_0")).setPorts(1)
        .setReady(io.spoke.vertx.client.Readiness.http("http://127.0.0.1:${SPOKE_PORT_0}/")),
      new SpawnOptions().setRestart(RestartPolicy.onFailure(1).withBackoffMs(100))
        .setLiveness(Liveness.http("http://127.0.0.1:${SPOKE_PORT_0}/").withInterval(300).withFailures(3))));
    long pid = processes.track(server.info().pid());
    // Stopped, it holds its port but answers nothing: only the liveness check can tell.
    new ProcessBuilder("kill", "-STOP", String.valueOf(pid)).start().waitFor();
    until("the mute server to be replaced", () -> {
      ActorInfo now = await(client.resolve("mute"));
      return now.state() == ActorState.RUNNING && now.pid() != pid;
    });
    ActorInfo info = await(client.resolve("mute"));
    processes.track(info.pid());
    assertThat(info.restarts()).isEqualTo(1);
    assertThat(info.ports()).isEqualTo(server.ports());
    java.net.HttpURLConnection get = (java.net.HttpURLConnection) java.net.URI.create("http://127.0.0.1:" + info.ports().get(0) + "/")
      .toURL().openConnection();
    assertThat(get.getResponseCode()).isEqualTo(200);
    get.disconnect();
    until("the mute instance to be gone", () -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
  }

  @Test
  void anAdHocActorWhoseNodeDiesStartsAgainOnAnotherNodeWithItsBudget(Vertx vertx) throws Exception {
    cluster.close();
    cluster.start(vertx, new io.spoke.vertx.hub.HubOptions().setHeartbeatInterval(200).setNodeTimeout(1_500));
    Process doomed = cluster.startAgentProcess("doomed-node", java.util.Map.of(), "--gpus", "0");
    cluster.startAgentProcess("spare-node", java.util.Map.of(), "--gpus", "0");
    SpokeClient owner = cluster.client();
    ActorHandle moving = cluster.spawn(owner, "Echo", "mover", new SpawnOptions().setNode("doomed-node")
      .setRestart(RestartPolicy.onFailure(2)));
    ActorHandle stays = cluster.spawn(owner, "Echo", "no-policy", new SpawnOptions().setNode("doomed-node"));
    processes.track(moving.info().pid());
    processes.track(stays.info().pid());
    doomed.destroyForcibly();
    until("mover to run on the spare node", () -> {
      ActorInfo now = await(owner.resolve("mover"));
      return now.state() == ActorState.RUNNING && "spare-node".equals(now.nodeId());
    });
    ActorInfo moved = await(owner.resolve("mover"));
    processes.track(moved.pid());
    assertThat(moved.restarts()).isEqualTo(1);
    assertThat(await(moving.call(TestActors.HELLO, "elsewhere", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, elsewhere!");
    assertThat(await(moving.call(TestActors.ENV, "SPOKE_ATTEMPT", Serializers.STRING, Serializers.STRING))).isEqualTo("1");
    ActorInfo dead = await(owner.resolve("no-policy"));
    assertThat(dead.state()).isEqualTo(ActorState.EXITED);
    assertThat(dead.reason()).contains("its node doomed-node died");
  }

  @Test
  void anAdHocActorWhoseAgentRestartsStartsAgainUnderItsPolicy(Vertx vertx) throws Exception {
    cluster.close();
    cluster.start(vertx, new io.spoke.vertx.hub.HubOptions().setHeartbeatInterval(200).setNodeTimeout(30_000));
    Process agent = cluster.startAgentProcess("comes-back", java.util.Map.of(), "--gpus", "1");
    SpokeClient owner = cluster.client();
    ActorHandle actor = cluster.spawn(owner, "Echo", "survivor", new SpawnOptions().setGpus(1).setRestart(RestartPolicy.onFailure(2)));
    long pid = actor.info().pid();
    // The agent dies (its actor with it) and is back well within the node timeout: its registration lacks the actor.
    agent.destroyForcibly();
    ProcessCleanup.awaitExit(pid, 10_000);
    cluster.startAgentProcess("comes-back", java.util.Map.of(), "--gpus", "1");
    until("survivor to run again", () -> {
      ActorInfo now = await(owner.resolve("survivor"));
      return now.state() == ActorState.RUNNING && now.pid() != pid;
    });
    ActorInfo again = await(owner.resolve("survivor"));
    processes.track(again.pid());
    assertThat(again.restarts()).isEqualTo(1);
    assertThat(again.gpuIds()).hasSize(1);
    assertThat(await(actor.call(TestActors.HELLO, "again", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, again!");
  }

  @Test
  void callsInFlightWhenAnInstanceDiesFailWithActorDeadAndTheNextCallReachesTheNextInstance() throws Exception {
    ActorHandle actor = cluster.spawn(client, "Echo", "in-flight", new SpawnOptions().setRestart(RestartPolicy.onFailure(1).withBackoffMs(100)));
    long pid = pidOf(actor);
    io.vertx.core.Future<String> inFlight = actor.call(TestActors.SLOW, 60_000L, Serializers.LONG, Serializers.STRING);
    // A round trip after the slow call proves it reached the actor.
    assertThat(await(actor.call(TestActors.HELLO, "before", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, before!");
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    assertThat(awaitFailure(inFlight)).isInstanceOf(ActorDeadException.class).hasMessageContaining("in-flight");
    assertThat(await(actor.call(TestActors.HELLO, "next", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, next!");
    processes.track(await(client.resolve("in-flight")).pid());
  }
}
