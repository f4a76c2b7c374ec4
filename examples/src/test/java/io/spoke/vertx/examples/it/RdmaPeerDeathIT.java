// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.it;

import static io.spoke.vertx.test.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.ActorDeadException;
import io.spoke.vertx.RdmaException;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.rdma.Rdma;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.Await;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Peers SIGKILLed in the middle of large transfers over UCX, twenty in a row each way: actors killed under this
 * client, and client processes killed under one actor host. Whatever the size (4 KiB, eager, to 32 MiB,
 * rendezvous), the direction of the bulk and where each side progresses UCX (a thread sleeping on the worker's
 * event fd, a thread that busy-polls, or the epoll event loop), the survivor lives on: its calls to the dead peer
 * fail with {@link ActorDeadException} or {@link RdmaException} within a second, it gives back every registered
 * segment, and it keeps serving and calling everyone else throughout.
 * <p>
 * This JVM (on NIO) progresses UCX on a thread that sleeps on the event fd; the actors and client processes it
 * kills, and the actor hosts it keeps, take the other modes in turn.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class RdmaPeerDeathIT {

  private static final int ROUNDS = 20;
  private static final int[] SIZES = {4 << 10, 64 << 10, 1 << 20, 8 << 20, 32 << 20};
  /** Where the bulk goes: to the actor, from it, or both ways at once (echoes). */
  private static final String[] DIRECTIONS = {"to-actor", "from-actor", "echo"};
  /** JVM options of a peer for each place UCX can be progressed. */
  private static final List<List<String>> MODES = List.of(List.of(), List.of("-Dspoke.nativeTransport=true"),
    List.of("-Dspoke.rdma.busyPoll=true"));
  private static final long FAIL_WITHIN_MS = 1_000;
  /**
   * The peers run with this JVM's {@code spoke.rdma.tcpZcopy}: {@code -DargLine=-Dspoke.rdma.tcpZcopy=true} runs
   * the whole test on UCX's zero-copy TCP sends, the path that aborts on a peer's death (see UcxRuntime in spoke-vertx-rdma).
   */
  private static final List<String> ZCOPY = System.getProperty("spoke.rdma.tcpZcopy") == null ? List.of()
    : List.of("-Dspoke.rdma.tcpZcopy=" + System.getProperty("spoke.rdma.tcpZcopy"));

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);
  private SpokeClient client;
  /** This process's UCX transport (the client's). */
  private Rdma rdma;
  /** A client that stays on TCP: asks actor hosts what they hold, without taking a segment there to ask. */
  private SpokeClient tcpClient;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    cluster.start(vertx);
    cluster.startAgent(new AgentOptions().setNodeId("ucx").setGpus(0));
    client = cluster.client();
    rdma = await(Rdma.start(vertx));
    tcpClient = cluster.client();
  }

  @AfterAll
  void stop() throws Exception {
    cluster.close();
  }

  @Test
  void twentyActorsKilledMidTransferFailOnlyTheirOwnCalls() throws Exception {
    ActorHandle survivor = spawn("survivor", MODES.get(1));
    await(survivor.initRdma());
    RdmaLoad survivorLoad = RdmaLoad.echo(client, "survivor", 256 << 10, 2).start();
    for (int round = 0; round < ROUNDS; round++) {
      int size = SIZES[round % SIZES.length];
      String direction = DIRECTIONS[round % DIRECTIONS.length];
      List<String> mode = MODES.get(round % MODES.size());
      String id = "victim-" + round;
      boolean frozen = frozenFirst(round);
      String what = id + " (" + size + " bytes " + direction + ", actor " + mode + (frozen ? ", frozen first" : "") + ")";
      ActorHandle victim = spawn(id, mode);
      await(victim.initRdma());
      long pid = Long.parseLong(await(victim.call(RdmaTestActor.PID, null, Serializers.VOID, Serializers.STRING)));
      Future<Buffer> never = victim.call(RdmaTestActor.NEVER, Buffer.buffer());
      RdmaLoad load = load(client, id, direction, size).start();
      awaitCompleted(load, 3, what);
      long survivorBefore = survivorLoad.completed();
      long killedAt = frozen ? freezeThenKill(pid) : kill(pid);

      Throwable neverFailure = Await.failureOf(never, 5, TimeUnit.SECONDS);
      assertThat(neverFailure).as("the pending call of %s", what).isInstanceOf(ActorDeadException.class).hasMessageContaining(id);
      await(load.settled());
      assertThat(load.failures()).as("failures of the calls to %s", what).isNotEmpty()
        .allSatisfy(f -> assertThat(f).isInstanceOfAny(ActorDeadException.class, RdmaException.class));
      long failedMs = (Math.max(load.lastSettledNanos(), killedAt) - killedAt) / 1_000_000;
      assertThat(failedMs).as("ms from SIGKILL until every call to %s failed", what).isLessThan(FAIL_WITHIN_MS);
      System.out.println(what + ": " + load.completed() + " calls completed, the rest failed " + failedMs + " ms after SIGKILL");

      awaitProgress(survivorLoad, survivorBefore, "the survivor, after " + what + " was killed");
    }
    await(survivorLoad.stop());
    assertThat(survivorLoad.failures()).as("failures of calls to the survivor").isEmpty();
    System.out.println("survivor: " + survivorLoad.completed() + " calls of 256 KiB, none failed");
    assertNoRegisteredBufferInUse();
    await(survivor.stop());
  }

  @Test
  void anActorHostOutlivesTwentyClientsKilledMidTransferAndServesTheOthers() throws Exception {
    List<ActorHandle> hosts = List.of(spawn("host-threaded", MODES.get(0)), spawn("host-epoll", MODES.get(1)));
    List<Long> hostPids = new ArrayList<>();
    List<RdmaLoad> others = new ArrayList<>();
    for (ActorHandle host : hosts) {
      await(host.initRdma());
      hostPids.add(Long.parseLong(await(host.call(RdmaTestActor.PID, null, Serializers.VOID, Serializers.STRING))));
      others.add(RdmaLoad.echo(client, host.id(), 256 << 10, 2).start());
    }
    Random random = new Random(5);
    for (int round = 0; round < ROUNDS; round++) {
      ActorHandle host = hosts.get(round % hosts.size());
      RdmaLoad other = others.get(round % hosts.size());
      int size = SIZES[round % SIZES.length];
      String direction = DIRECTIONS[round % DIRECTIONS.length];
      List<String> mode = MODES.get((round / hosts.size()) % MODES.size());
      List<String> jvmOptions = new ArrayList<>(List.of("-XX:TieredStopAtLevel=1"));
      jvmOptions.addAll(mode.stream().filter(o -> o.startsWith("-Dspoke.rdma")).toList());
      jvmOptions.addAll(ZCOPY);
      Process child = processes.track(TestCluster.java(jvmOptions, RdmaLoadClient.class.getName(), String.valueOf(cluster.hubPort()),
        host.id(), direction, String.valueOf(size), size >= 8 << 20 ? "3" : "8",
        mode.contains("-Dspoke.nativeTransport=true") ? "epoll" : "nio").redirectErrorStream(true).start());
      String loading = awaitLine(child, "LOADING ");
      boolean frozen = frozenFirst(round);
      String what = "client " + round + " (" + loading.substring("LOADING ".length()) + ", " + size + " bytes " + direction + " "
        + host.id() + (frozen ? ", frozen first" : "") + ")";
      // A moment into its stream of calls, so that the kill falls anywhere in a transfer.
      Thread.sleep(random.nextInt(30));
      long otherBefore = other.completed();
      if (frozen) {
        freezeThenKill(child.pid());
      } else {
        kill(child.pid());
      }
      assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
      awaitProgress(other, otherBefore, host.id() + " for this client, after " + what + " was killed");
      System.out.println(what + " killed; " + host.id() + " still serving");
    }
    for (int i = 0; i < hosts.size(); i++) {
      ActorHandle host = hosts.get(i);
      RdmaLoad other = others.get(i);
      await(other.stop());
      assertThat(other.failures()).as("failures of this client's calls to %s", host.id()).isEmpty();
      assertThat(Long.parseLong(await(host.call(RdmaTestActor.PID, null, Serializers.VOID, Serializers.STRING))))
        .as("pid of %s", host.id()).isEqualTo(hostPids.get(i));
      assertHostHoldsNoSegment(host);
      System.out.println(host.id() + ": " + other.completed() + " calls of 256 KiB from this client, none failed");
      await(host.stop());
    }
  }

  private static RdmaLoad load(SpokeClient client, String id, String direction, int size) {
    int depth = size >= 8 << 20 ? 3 : 8;
    return switch (direction) {
      case "to-actor" -> RdmaLoad.toActor(client, id, size, depth);
      case "from-actor" -> RdmaLoad.fromActor(client, id, size, depth);
      default -> RdmaLoad.echo(client, id, size, depth);
    };
  }

  private ActorHandle spawn(String id, List<String> mode) throws Exception {
    List<String> options = new ArrayList<>(AgentOptions.DEFAULT_ACTOR_JVM_OPTIONS);
    options.addAll(mode);
    options.addAll(ZCOPY);
    ActorHandle actor = await(client.spawn("RdmaTestActor", id, new SpawnOptions().setNode("ucx").setJvmOptions(options)));
    processes.track(actor.info().pid());
    return actor;
  }

  /**
   * Every other pair of rounds, the peer is frozen (SIGSTOP) before it is killed: the survivor's sends then stall on
   * a full socket buffer, half sent, which is where UCX's TCP transport fails a send twice when the peer dies.
   */
  private static boolean frozenFirst(int round) {
    return round % 4 >= 2;
  }

  /** SIGSTOPs {@code pid}, lets the transfers to it stall, then SIGKILLs it; returns when it was killed. */
  private static long freezeThenKill(long pid) throws Exception {
    assertThat(new ProcessBuilder("kill", "-STOP", Long.toString(pid)).start().waitFor()).isZero();
    Thread.sleep(300);
    return kill(pid);
  }

  /** SIGKILLs {@code pid}; returns {@link System#nanoTime()} just before. */
  private static long kill(long pid) throws Exception {
    long at = System.nanoTime();
    assertThat(new ProcessBuilder("kill", "-KILL", Long.toString(pid)).start().waitFor()).isZero();
    return at;
  }

  /** The first line of {@code process}'s output that starts with {@code prefix}; fails with what it printed before. */
  private static String awaitLine(Process process, String prefix) throws Exception {
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder seen = new StringBuilder();
    String line;
    while ((line = out.readLine()) != null && !line.startsWith(prefix)) {
      seen.append(line).append('\n');
    }
    assertThat(line).as("a line starting with %s; the process printed:%n%s", prefix, seen).isNotNull();
    return line;
  }

  private static void awaitCompleted(RdmaLoad load, long calls, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (load.completed() < calls && load.failures().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    assertThat(load.failures()).as("failures of calls to %s before it was killed", what).isEmpty();
    assertThat(load.completed()).as("calls to %s completed before the kill", what).isGreaterThanOrEqualTo(calls);
  }

  /** Waits until {@code load} completed more calls than {@code before}: its actor is still served. */
  private static void awaitProgress(RdmaLoad load, long before, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (load.completed() <= before + 1 && load.failures().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(load.failures()).as("failures of calls to %s", what).isEmpty();
    assertThat(load.completed()).as("calls completed by %s", what).isGreaterThan(before + 1);
  }

  private void assertNoRegisteredBufferInUse() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (rdma.memory().inUse() != 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(rdma.memory().inUse()).as("registered segments still taken in this process").isZero();
  }

  /** The host gives back every segment it took for the clients it lost (it frees them once their links fail). */
  private void assertHostHoldsNoSegment(ActorHandle host) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    long inUse;
    while ((inUse = await(tcpClient.call(host.id(), RdmaTestActor.IN_USE, Buffer.buffer())).getLong(0)) != 0
      && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(inUse).as("registered segments still taken in %s", host.id()).isZero();
  }
}
