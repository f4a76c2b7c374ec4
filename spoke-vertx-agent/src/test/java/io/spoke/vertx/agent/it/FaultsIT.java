// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.ActorDeadException;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Faults inflicted with SIGKILL on real processes. */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class FaultsIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  private static final long GRACE_MS = 1_000;

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);
  private SpokeClient client;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    cluster.start(vertx, new HubOptions().setHeartbeatInterval(100).setNodeTimeout(1_000)
      .setClientGracePeriod(GRACE_MS));
    client = cluster.client();
  }

  @Test
  void killingTheAgentKillsAllItsActorsWithinOneSecond() throws Exception {
    Process agent = cluster.startAgentProcess("doomed", Map.of(), "--gpus", "2");
    List<Future<ActorHandle>> spawns = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      spawns.add(client.spawn("Echo", "orphan-" + i, new SpawnOptions().setNode("doomed").setGpus(i == 0 ? 1 : 0)));
    }
    List<Long> pids = new ArrayList<>();
    for (Future<ActorHandle> spawn : spawns) {
      pids.add(processes.track(await(spawn).info().pid()));
    }
    assertThat(pids).allMatch(ProcessCleanup::alive);

    agent.destroyForcibly();
    assertThat(agent.waitFor(5, TimeUnit.SECONDS)).isTrue();
    assertThat(agent.exitValue()).isEqualTo(137);
    for (long pid : pids) {
      long took = ProcessCleanup.awaitExit(pid, 1_000);
      assertThat(took).as("actor %d exited %d ms after its agent", pid, took).isLessThan(1_000);
    }

    // The hub notices within its node timeout and reports the actors dead, with why.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    ActorInfo info;
    while ((info = await(client.resolve("orphan-0"))).state() != ActorState.EXITED) {
      assertThat(System.nanoTime()).isLessThan(deadline);
      Thread.sleep(50);
    }
    assertThat(info.reason()).contains("its node doomed died");
    assertThatThrownBy(() -> await(client.call("orphan-1", TestActors.HELLO, "x", Serializers.STRING, Serializers.STRING)))
      .isInstanceOf(ActorDeadException.class).hasMessageContaining("node doomed died");
  }

  @Test
  void killingAClientReleasesItsTicketsAfterTheGracePeriodAndStopsTheirActorsButNotDetachedOnes() throws Exception {
    cluster.startAgent(new io.spoke.vertx.agent.AgentOptions().setGpus(2));
    Process holder = new ProcessBuilder(java.nio.file.Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
      "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), TicketHolder.class.getName(),
      String.valueOf(cluster.hubPort()), cluster.tokenFile().toString())
      .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    processes.track(holder.pid());
    String ready = null;
    java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream()));
    for (String line; (line = out.readLine()) != null; ) {
      if (line.startsWith("READY ")) {
        ready = line;
        break;
      }
    }
    assertThat(ready).as("the client process allocated and launched").isNotNull();
    long owned = processes.track(Long.parseLong(ready.split(" ")[1]));
    long detached = processes.track(Long.parseLong(ready.split(" ")[2]));
    assertThat(await(client.status()).tickets()).extracting(io.spoke.vertx.client.Allocation::ticketId)
      .containsExactly("t-owned", "t-detached");

    holder.destroyForcibly();
    assertThat(holder.waitFor(5, TimeUnit.SECONDS)).isTrue();
    long killed = System.nanoTime();
    // Within the grace period nothing happens: a client may come back.
    Thread.sleep(GRACE_MS / 2);
    assertThat(ProcessCleanup.alive(owned)).isTrue();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (await(client.status()).tickets().size() != 1) {
      assertThat(System.nanoTime()).as("the owned ticket is released").isLessThan(deadline);
      Thread.sleep(50);
    }
    long afterKill = (System.nanoTime() - killed) / 1_000_000;
    assertThat(afterKill).as("released after the grace period").isGreaterThanOrEqualTo(GRACE_MS);
    assertThat(await(client.status()).tickets()).extracting(io.spoke.vertx.client.Allocation::ticketId).containsExactly("t-detached");
    assertThat(ProcessCleanup.alive(owned)).as("the owned ticket's actor was stopped before its release completed").isFalse();
    assertThat(ProcessCleanup.alive(detached)).as("the detached ticket's actor runs on").isTrue();
    assertThat(await(client.status()).nodes().get(0).freeGpus()).as("the owned ticket's GPU is free again").hasSize(1);
    await(client.release("t-detached"));
    assertThat(ProcessCleanup.awaitExit(detached, 10_000)).isGreaterThanOrEqualTo(0);
  }

  @Test
  void killingAnActorFailsItsCallsInFlightWithinOneSecond() throws Exception {
    cluster.startAgent(new io.spoke.vertx.agent.AgentOptions().setGpus(0));
    ActorHandle victim = cluster.spawn(client, "Echo", "victim");
    List<Future<String>> inFlight = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      inFlight.add(victim.call(TestActors.SLOW, 60_000L, Serializers.LONG, Serializers.STRING));
    }
    // A round trip after the slow calls were sent proves they reached the actor.
    assertThat(await(victim.call(TestActors.HELLO, "still", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, still!");

    long killedAt = System.nanoTime();
    ProcessHandle.of(victim.info().pid()).orElseThrow().destroyForcibly();
    for (Future<String> call : inFlight) {
      assertThatThrownBy(() -> call.await(1_000 - (System.nanoTime() - killedAt) / 1_000_000, TimeUnit.MILLISECONDS))
        .isInstanceOfSatisfying(ActorDeadException.class, e -> {
          assertThat(e.actorId()).isEqualTo("victim");
          assertThat(e.exitCode()).isEqualTo(137);
          assertThat(e.logFile()).isEqualTo(victim.info().logFile());
          assertThat(e.getMessage()).contains("actor 'victim' is dead: killed by SIGKILL (exit status 137)")
            .contains(victim.info().logFile());
        });
    }
    assertThat((System.nanoTime() - killedAt) / 1_000_000).as("ms until every call failed").isLessThan(1_000);

    // Later calls fail the same way, at once, and the id is free for a new actor.
    assertThatThrownBy(() -> await(victim.call(TestActors.HELLO, "late", Serializers.STRING, Serializers.STRING)))
      .isInstanceOf(ActorDeadException.class).hasMessageContaining("SIGKILL");
    ActorHandle successor = cluster.spawn(client, "Echo", "victim");
    assertThat(await(successor.call(TestActors.HELLO, "again", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, again!");
  }
}
