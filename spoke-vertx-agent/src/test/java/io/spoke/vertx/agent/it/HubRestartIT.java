// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static io.spoke.vertx.test.Await.awaitFailure;
import static io.spoke.vertx.testkit.HubProcesses.awaitStatus;
import static io.spoke.vertx.testkit.HubProcesses.java;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.DuplicateActorException;
import io.spoke.vertx.SchedulingException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.ManagedProcess;
import io.spoke.vertx.client.NodeInfo;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.client.TicketState;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The hub killed with SIGKILL mid-traffic and started again: calls between the client and running actors keep
 * flowing (the data plane does not pass through the hub), the agent reconnects and re-registers, and the new hub
 * rebuilds the node, its running actors and their GPUs from the agent's report, so nothing is handed out twice.
 * With a {@code --state-dir}, it also takes its gangs (tickets) back from its journal and adopts their actors.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class HubRestartIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  private final List<SpokeClient> clients = new ArrayList<>();

  @AfterEach
  void closeClients() throws Exception {
    for (SpokeClient client : clients) {
      client.close().await(30, TimeUnit.SECONDS);
    }
  }



  /** A hub and an agent (node n1, 2 GPUs) in processes of their own, with a cluster token, and a client that sees the node. */
  private static final class Cluster {

    Path dir;
    Path token;
    int port;
    String[] hubArgs;
    Process hub;
    Process agent;
    SpokeClient client;

    /** An agent of node {@code nodeId} (2 GPUs) in a process of its own. */
    Process startAgent(String nodeId) throws Exception {
      return java(processes, dir.resolve(nodeId + ".out"), List.of(), "io.spoke.vertx.agent.AgentMain", "--hub", "127.0.0.1:" + port,
        "--node-id", nodeId, "--gpus", "2", "--token-file", token.toString(), "--log-dir", dir.resolve("logs-" + nodeId).toString(),
        "--reconnect-interval", "100", "--stop-timeout", "2000");
    }

    /** Starts the hub again with the same arguments (port, token, state directory). */
    Process restartHub() throws Exception {
      return java(processes, dir.resolve("hub2.out"), List.of(), "io.spoke.vertx.hub.HubMain", hubArgs);
    }
  }

  private Cluster startCluster(Vertx vertx, String name, String... extraHubArgs) throws Exception {
    Cluster cluster = new Cluster();
    cluster.dir = Files.createTempDirectory(name);
    Path token = cluster.dir.resolve("cluster.token");
    Files.writeString(token, TestCluster.TOKEN + "\n");
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    List<String> hubArgs = new ArrayList<>(List.of("--port", String.valueOf(port), "--token-file", token.toString(),
      "--heartbeat-interval", "200", "--node-timeout", "5000"));
    hubArgs.addAll(List.of(extraHubArgs));
    cluster.hubArgs = hubArgs.toArray(new String[0]);
    cluster.hub = java(processes, cluster.dir.resolve("hub.out"), List.of(), "io.spoke.vertx.hub.HubMain", cluster.hubArgs);
    cluster.token = token;
    cluster.port = port;
    cluster.agent = cluster.startAgent("n1");
    cluster.client = SpokeClient.create(vertx, new SpokeClientOptions().setHubPort(port)
      .setSecurity(new SecurityOptions().setTokenFile(token.toString())));
    clients.add(cluster.client);
    awaitStatus(cluster.client, st -> st.nodes().stream().anyMatch(n -> n.id().equals("n1") && n.alive()));
    return cluster;
  }

  @Test
  void callsFlowWhileTheHubIsDownAndTheRestartedHubRebuildsNodesActorsAndGpus(Vertx vertx) throws Exception {
    Cluster cluster = startCluster(vertx, "spoke-hub-restart");
    SpokeClient client = cluster.client;
    ActorHandle withGpu = await(client.spawn("Echo", "keeps-gpu", new SpawnOptions().setGpus(1)));
    processes.track(withGpu.info().pid());
    ActorHandle plain = await(client.spawn("Echo", "keeps-running"));
    processes.track(plain.info().pid());
    int gpuInUse = withGpu.info().gpuIds().get(0);

    // Traffic: calls to both actors, one after another, all through the test.
    AtomicInteger ok = new AtomicInteger();
    List<Throwable> failed = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean(true);
    Runnable[] loop = new Runnable[1];
    AtomicInteger turn = new AtomicInteger();
    loop[0] = () -> {
      if (!running.get()) {
        return;
      }
      ActorHandle actor = turn.getAndIncrement() % 2 == 0 ? withGpu : plain;
      actor.call(TestActors.HELLO, "traffic", Serializers.STRING, Serializers.STRING).onComplete(ar -> {
        if (ar.succeeded()) {
          ok.incrementAndGet();
        } else {
          failed.add(ar.cause());
        }
        vertx.setTimer(2, t -> loop[0].run());
      });
    };
    vertx.runOnContext(v -> loop[0].run());
    Thread.sleep(300);

    cluster.hub.destroyForcibly();
    assertThat(cluster.hub.waitFor(10, TimeUnit.SECONDS)).isTrue();
    int before = ok.get();
    Thread.sleep(1_500);
    int duringOutage = ok.get() - before;
    assertThat(duringOutage).as("calls completed while the hub was down").isGreaterThan(50);
    assertThat(failed).isEmpty();

    cluster.restartHub();
    ClusterStatus rebuilt = awaitStatus(client, s -> s.nodes().stream().anyMatch(n -> n.id().equals("n1") && n.alive())
      && s.actors().stream().filter(a -> a.state() == ActorState.RUNNING).count() == 2);
    NodeInfo node = rebuilt.nodes().stream().filter(n -> n.id().equals("n1")).findFirst().orElseThrow();
    assertThat(node.freeGpus()).as("the GPU of the running actor is in use again").containsExactly(1 - gpuInUse);
    ActorInfo adopted = rebuilt.actors().stream().filter(a -> a.id().equals("keeps-gpu")).findFirst().orElseThrow();
    assertThat(adopted.gpuIds()).containsExactly(gpuInUse);
    assertThat(adopted.pid()).isEqualTo(withGpu.info().pid());

    // The rebuilt books hold: the free GPU goes to a new actor, and there is none after it.
    ActorHandle second = await(client.spawn("Echo", "after-restart", new SpawnOptions().setGpus(1)));
    processes.track(second.info().pid());
    assertThat(second.info().gpuIds()).containsExactly(1 - gpuInUse);
    assertThatThrownBy(() -> await(client.spawn("Echo", "one-too-many", new SpawnOptions().setGpus(1))))
      .isInstanceOf(SchedulingException.class);
    assertThat(await(second.call(TestActors.HELLO, "new hub", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, new hub!");

    running.set(false);
    Thread.sleep(50);
    System.out.println("hub restart: " + ok.get() + " calls, " + duringOutage + " of them in 1.5 s with the hub down, " + failed.size()
      + " failed");
    assertThat(failed).isEmpty();
    await(second.stop());
  }

  @Test
  void anActorRestartingWhileTheHubIsDownIsKeptWithItsPolicyAndCount(Vertx vertx) throws Exception {
    Cluster cluster = startCluster(vertx, "spoke-hub-restart-backoff");
    SpokeClient client = cluster.client;
    ActorHandle actor = await(client.spawn("Echo", "restarts-alone", new SpawnOptions()
      .setRestart(io.spoke.vertx.client.RestartPolicy.onFailure(2).withBackoffMs(3_000))));
    long pid = processes.track(actor.info().pid());
    ProcessHandle.of(pid).orElseThrow().destroyForcibly();
    awaitStatus(client, s -> s.actors().stream().anyMatch(a -> a.id().equals("restarts-alone") && a.state() == ActorState.RESTARTING));
    // The hub dies during the back-off: the agent, which holds the policy and the count, goes on.
    cluster.hub.destroyForcibly();
    assertThat(cluster.hub.waitFor(10, TimeUnit.SECONDS)).isTrue();
    cluster.restartHub();
    ClusterStatus status = awaitStatus(client, s -> s.actors().stream().anyMatch(a -> a.id().equals("restarts-alone")
      && a.state() == ActorState.RUNNING && a.pid() != pid));
    ActorInfo back = status.actors().stream().filter(a -> a.id().equals("restarts-alone")).findFirst().orElseThrow();
    processes.track(back.pid());
    assertThat(back.restarts()).isEqualTo(1);
    assertThat(await(actor.call(TestActors.HELLO, "after", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, after!");
    // The count was kept: one more death is the last restart, the next is final.
    ProcessHandle.of(back.pid()).orElseThrow().destroyForcibly();
    ClusterStatus again = awaitStatus(client, s -> s.actors().stream().anyMatch(a -> a.id().equals("restarts-alone")
      && a.state() == ActorState.RUNNING && a.restarts() == 2));
    long third = again.actors().stream().filter(a -> a.id().equals("restarts-alone")).findFirst().orElseThrow().pid();
    processes.track(third);
    ProcessHandle.of(third).orElseThrow().destroyForcibly();
    awaitStatus(client, s -> s.actors().stream().noneMatch(a -> a.id().equals("restarts-alone")));
    assertThat(await(client.resolve("restarts-alone")).state()).isEqualTo(ActorState.EXITED);
  }

  @Test
  void aRestartInPlaceStillStartingWhenTheHubRestartsIsKeptAndBecomesReady(Vertx vertx) throws Exception {
    Cluster cluster = startCluster(vertx, "spoke-hub-restart-starting");
    SpokeClient client = cluster.client;
    Path release = cluster.dir.resolve("release");
    Path secondPid = cluster.dir.resolve("pid-1");
    // Its second start says its pid, then is ready only once the test says so: the hub restarts while it is starting.
    ManagedProcess process = await(client.spawnProcess("starts-slowly", new ProcessSpec(List.of("sh", "-c",
      "echo $$ > " + cluster.dir + "/pid-$SPOKE_ATTEMPT.tmp; mv " + cluster.dir + "/pid-$SPOKE_ATTEMPT.tmp " + cluster.dir
        + "/pid-$SPOKE_ATTEMPT; [ \"$SPOKE_ATTEMPT\" = 0 ] || while [ ! -f " + release + " ]; do sleep 0.05; done; echo go; "
        + "exec sleep 600")).setReady(io.spoke.vertx.client.Readiness.log("^go$")),
      new SpawnOptions().setRestart(io.spoke.vertx.client.RestartPolicy.onFailure(2).withBackoffMs(0))));
    long first = processes.track(process.info().pid());
    ProcessHandle.of(first).orElseThrow().destroyForcibly();
    io.spoke.vertx.test.Await.until("the restart to start", () -> Files.exists(secondPid));
    long second = processes.track(Long.parseLong(Files.readString(secondPid).strip()));

    cluster.hub.destroyForcibly();
    assertThat(cluster.hub.waitFor(10, TimeUnit.SECONDS)).isTrue();
    cluster.restartHub();
    // The agent registers with the new hub while the restart is starting: the hub keeps it (before, it took it for a
    // start nobody waits for and stopped it).
    awaitStatus(client, s -> s.nodes().stream().anyMatch(n -> n.id().equals("n1") && n.alive())
      && s.actors().stream().anyMatch(a -> a.id().equals("starts-slowly")));
    Files.writeString(release, "go");
    ClusterStatus ready = awaitStatus(client, s -> s.actors().stream().anyMatch(a -> a.id().equals("starts-slowly")
      && a.state() == ActorState.RUNNING));
    ActorInfo kept = ready.actors().stream().filter(a -> a.id().equals("starts-slowly")).findFirst().orElseThrow();
    assertThat(kept.pid()).as("the instance that was starting").isEqualTo(second);
    assertThat(kept.restarts()).isEqualTo(1);
    assertThat(ProcessHandle.of(second).map(ProcessHandle::isAlive)).contains(true);
  }

  @Test
  void aGangRestartTheHubDiesInIsFinishedByTheRestartedHubWithItsPolicyAndCount(Vertx vertx) throws Exception {
    Path dir = Files.createTempDirectory("spoke-hub-gang-restart");
    Cluster cluster = startCluster(vertx, "spoke-hub-gang-restart", "--state-dir", dir.resolve("state").toString());
    SpokeClient client = cluster.client;
    Allocation ticket = await(client.gangAllocate(new GangRequest().setTicketId("t-gang").setActorsPerNode(2).setGpus(1)
      .setRestart(io.spoke.vertx.client.RestartPolicy.onFailure(2).withBackoffMs(3_000))));
    for (int rank = 0; rank < 2; rank++) {
      ManagedProcess process = await(client.launchProcess("t-gang", rank, "gang-" + rank, new ProcessSpec(List.of("sh", "-c",
        "echo attempt $SPOKE_ATTEMPT gpu $CUDA_VISIBLE_DEVICES master $MASTER_PORT; "
          + "[ $RANK = 1 ] && [ $SPOKE_ATTEMPT = 0 ] && { sleep 0.5; exit 5; }; exec sleep 600"))));
      processes.track(process.info().pid());
    }
    // Rank 1 fails: the gang restart begins, and the hub dies during its back-off, both ranks stopped.
    awaitStatus(client, s -> s.tickets().size() == 1 && s.tickets().get(0).restarts() == 1 && s.actors().isEmpty());
    cluster.hub.destroyForcibly();
    assertThat(cluster.hub.waitFor(10, TimeUnit.SECONDS)).isTrue();
    cluster.restartHub();

    // The restarted hub read the restart from its journal and finished it: both ranks run again at attempt 1.
    ClusterStatus back = awaitStatus(client, s -> s.tickets().size() == 1 && s.actors().size() == 2
      && s.actors().stream().allMatch(a -> a.state() == ActorState.RUNNING));
    Allocation restored = back.tickets().get(0);
    assertThat(restored.state()).isEqualTo(TicketState.ALLOCATED);
    assertThat(restored.restarts()).isEqualTo(1);
    assertThat(restored.restart().maxRestarts()).isEqualTo(2);
    assertThat(restored.masterPort()).isEqualTo(ticket.masterPort());
    back.actors().forEach(a -> processes.track(a.pid()));
    for (int rank = 0; rank < 2; rank++) {
      String gpu = String.valueOf(ticket.slot(rank).gpuIds().get(0));
      String log = awaitLog(client, "gang-" + rank, "attempt 1");
      assertThat(log).contains("attempt 0 gpu " + gpu + " master " + ticket.masterPort())
        .contains("attempt 1 gpu " + gpu + " master " + ticket.masterPort());
    }
    // The count was kept: one more failure is the last restart (attempt 2), the next fails the ticket.
    long rank1 = back.actors().stream().filter(a -> a.rank() == 1).findFirst().orElseThrow().pid();
    ProcessHandle.of(rank1).orElseThrow().destroyForcibly();
    ClusterStatus second = awaitStatus(client, s -> s.tickets().get(0).restarts() == 2 && s.actors().size() == 2
      && s.actors().stream().allMatch(a -> a.state() == ActorState.RUNNING && a.pid() != rank1));
    second.actors().forEach(a -> processes.track(a.pid()));
    awaitLog(client, "gang-0", "attempt 2");
    long last = second.actors().stream().filter(a -> a.rank() == 1).findFirst().orElseThrow().pid();
    ProcessHandle.of(last).orElseThrow().destroyForcibly();
    ClusterStatus failed = awaitStatus(client, s -> s.tickets().get(0).state() == TicketState.FAILED);
    assertThat(failed.tickets().get(0).reason()).contains("rank 1").contains("no gang restart left (2 within");
    await(client.release("t-gang"));
    awaitStatus(client, s -> s.actors().isEmpty());
  }

  @Test
  void aHubPausedLongerThanTheNodeTimeoutKeepsItsNodesAndTheirActors(Vertx vertx) throws Exception {
    Cluster cluster = startCluster(vertx, "spoke-hub-paused");
    SpokeClient client = cluster.client;
    ActorHandle actor = await(client.spawn("Echo", "outlives-a-pause", new SpawnOptions().setGpus(1)));
    long pid = processes.track(actor.info().pid());
    // Paused past the node timeout (5 s): the heartbeats it did not read while stopped are no sign of dead nodes.
    assertThat(new ProcessBuilder("kill", "-STOP", String.valueOf(cluster.hub.pid())).start().waitFor()).isZero();
    Thread.sleep(6_500);
    assertThat(new ProcessBuilder("kill", "-CONT", String.valueOf(cluster.hub.pid())).start().waitFor()).isZero();
    Path out = cluster.dir.resolve("hub.out");
    io.spoke.vertx.test.Await.until("the hub to notice it was paused", () -> Files.readString(out).contains("did not check its nodes for"));
    ClusterStatus status = awaitStatus(client, s -> true);
    assertThat(Files.readString(out)).doesNotContain("Node n1 is dead");
    assertThat(status.nodes()).extracting(NodeInfo::alive).containsExactly(true);
    ActorInfo still = status.actors().stream().filter(a -> a.id().equals("outlives-a-pause")).findFirst().orElseThrow();
    assertThat(still.state()).isEqualTo(ActorState.RUNNING);
    assertThat(still.pid()).isEqualTo(pid);
    assertThat(await(actor.call(TestActors.HELLO, "after a pause", Serializers.STRING, Serializers.STRING)))
      .isEqualTo("Hello, after a pause!");
  }

  @Test
  void aRankThatFailsWhileTheHubIsDownRestartsItsGangOnceTheHubIsBack(Vertx vertx) throws Exception {
    Path dir = Files.createTempDirectory("spoke-hub-exit-while-down");
    Cluster cluster = startCluster(vertx, "spoke-hub-exit-while-down", "--state-dir", dir.resolve("state").toString());
    SpokeClient client = cluster.client;
    await(client.gangAllocate(new GangRequest().setTicketId("t-away").setActorsPerNode(2).setGpus(1)
      .setRestart(io.spoke.vertx.client.RestartPolicy.onFailure(2).withBackoffMs(100))));
    Path gate = dir.resolve("gate");
    for (int rank = 0; rank < 2; rank++) {
      ManagedProcess process = await(client.launchProcess("t-away", rank, "away-" + rank, new ProcessSpec(List.of("sh", "-c",
        "echo attempt $SPOKE_ATTEMPT; if [ $RANK = 0 ] && [ $SPOKE_ATTEMPT = 0 ]; then while [ ! -f " + gate + " ]; do sleep 0.02; done; "
          + "exit 3; fi; exec sleep 600"))));
      processes.track(process.info().pid());
    }
    long rank0 = await(client.resolve("away-0")).pid();
    cluster.hub.destroyForcibly();
    assertThat(cluster.hub.waitFor(10, TimeUnit.SECONDS)).isTrue();
    // Rank 0 fails while no hub hears: its agent keeps the exit for the hub that comes.
    Files.createFile(gate);
    ProcessCleanup.awaitExit(rank0, 10_000);
    cluster.restartHub();
    ClusterStatus back = awaitStatus(client, s -> s.tickets().size() == 1 && s.tickets().get(0).restarts() == 1 && s.actors().size() == 2
      && s.actors().stream().allMatch(a -> a.state() == ActorState.RUNNING));
    back.actors().forEach(a -> processes.track(a.pid()));
    assertThat(back.tickets().get(0).reason()).contains("rank 0 exited with status 3");
    awaitLog(client, "away-0", "attempt 1");
    awaitLog(client, "away-1", "attempt 1");
    await(client.release("t-away"));
  }

  /**
   * Gang {@code ticket} (2 ranks, a GPU each, on-failure) whose rank 1 fails once, and whose hub is SIGKILLed while
   * both ranks start again (attempt 1 waits for {@code gate}), then restarted; returns the pids of the starts the dead
   * hub asked for.
   */
  private long[] hubDiesWhileRanksStartAgain(Cluster cluster, Path dir, String ticket, Path gate) throws Exception {
    SpokeClient client = cluster.client;
    await(client.gangAllocate(new GangRequest().setTicketId(ticket).setActorsPerNode(2).setGpus(1)
      .setRestart(io.spoke.vertx.client.RestartPolicy.onFailure(2).withBackoffMs(100))));
    Path fail = dir.resolve("fail");
    // Attempt 0 is ready at once, and rank 1 fails when told; attempt 1 is not ready until the gate opens.
    for (int rank = 0; rank < 2; rank++) {
      ProcessSpec spec = new ProcessSpec(List.of("sh", "-c", "echo attempt $SPOKE_ATTEMPT pid $$; if [ $SPOKE_ATTEMPT = 0 ]; then echo ready; "
        + "[ $RANK = 1 ] && { while [ ! -f " + fail + " ]; do sleep 0.02; done; exit 4; }; exec sleep 600; fi; "
        + "while [ ! -f " + gate + " ]; do sleep 0.02; done; echo ready; exec sleep 600"))
        .setReady(io.spoke.vertx.client.Readiness.log("^ready"));
      ManagedProcess process = await(client.launchProcess(ticket, rank, ticket + "-" + rank, spec));
      processes.track(process.info().pid());
    }
    Files.createFile(fail);
    long[] starting = new long[2];
    for (int rank = 0; rank < 2; rank++) {
      String log = awaitLog(client, ticket + "-" + rank, "attempt 1 pid ");
      starting[rank] = Long.parseLong(log.substring(log.indexOf("attempt 1 pid ") + 14).split("\\s")[0]);
      processes.track(starting[rank]);
    }
    awaitStatus(client, s -> s.actors().size() == 2 && s.actors().stream().allMatch(a -> a.state() == ActorState.STARTING));
    cluster.hub.destroyForcibly();
    assertThat(cluster.hub.waitFor(10, TimeUnit.SECONDS)).isTrue();
    cluster.restartHub();
    return starting;
  }

  @Test
  void ranksStartingAgainForAGangRestartWhenTheHubDiesStartAgainUnderTheRestartedHub(Vertx vertx) throws Exception {
    Path dir = Files.createTempDirectory("spoke-hub-relaunch");
    Cluster cluster = startCluster(vertx, "spoke-hub-relaunch", "--state-dir", dir.resolve("state").toString());
    SpokeClient client = cluster.client;
    Path gate = dir.resolve("gate");
    long[] starting = hubDiesWhileRanksStartAgain(cluster, dir, "t-relaunch", gate);
    // Starts nobody waits for are stopped; as relaunches of the gang's restart, they start again, at the same attempt.
    ProcessCleanup.awaitExit(starting[0], 30_000);
    ProcessCleanup.awaitExit(starting[1], 30_000);
    Files.createFile(gate);
    ClusterStatus back = awaitStatus(client, s -> s.tickets().size() == 1 && s.actors().size() == 2
      && s.actors().stream().allMatch(a -> a.state() == ActorState.RUNNING));
    back.actors().forEach(a -> processes.track(a.pid()));
    assertThat(back.tickets().get(0).state()).isEqualTo(TicketState.ALLOCATED);
    assertThat(back.tickets().get(0).restarts()).isEqualTo(1);
    assertThat(back.actors()).extracting(ActorInfo::pid).doesNotContain(starting[0], starting[1]);
    for (int rank = 0; rank < 2; rank++) {
      String log = awaitLog(client, "t-relaunch-" + rank, "ready");
      assertThat(log.split("attempt 1 pid ", -1)).hasSize(3);
    }
    await(client.release("t-relaunch"));
    awaitStatus(client, s -> s.actors().isEmpty());
  }

  /** The actor's log once it holds {@code text}. */
  private static String awaitLog(SpokeClient client, String actorId, String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String log = "";
    while (System.nanoTime() < deadline) {
      log = await(client.readLog(actorId, 0, 1 << 20)).data().toString(java.nio.charset.StandardCharsets.UTF_8);
      if (log.contains(text)) {
        return log;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(actorId + "'s log never said '" + text + "': " + log);
  }

  @Test
  void aHubWithAStateDirectoryKeepsItsGangsThroughASigkill(Vertx vertx) throws Exception {
    Path dir = Files.createTempDirectory("spoke-hub-journal");
    Cluster cluster = startCluster(vertx, "spoke-hub-journal", "--state-dir", dir.resolve("state").toString());
    SpokeClient client = cluster.client;
    Allocation training = await(client.gangAllocate(new GangRequest().setTicketId("t-train").setGpus(1)));
    Allocation idle = await(client.gangAllocate(new GangRequest().setTicketId("t-idle").setGpus(1)));
    ActorHandle trainer = await(client.launch("t-train", 0, "Echo", "trainer", new SpawnOptions()));
    processes.track(trainer.info().pid());
    assertThat(trainer.info().gpuIds()).isEqualTo(training.slot(0).gpuIds());

    cluster.hub.destroyForcibly();
    assertThat(cluster.hub.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(await(trainer.call(TestActors.HELLO, "no hub", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, no hub!");
    cluster.restartHub();

    // The restarted hub has both tickets back from its journal, the node's GPUs reserved for them, and the running
    // actor adopted into its rank.
    ClusterStatus rebuilt = awaitStatus(client, s -> s.nodes().stream().anyMatch(n -> n.id().equals("n1") && n.alive())
      && s.tickets().size() == 2 && s.tickets().get(0).slot(0).actorState() == ActorState.RUNNING);
    assertThat(rebuilt.tickets()).extracting(Allocation::ticketId).containsExactly("t-train", "t-idle");
    assertThat(rebuilt.tickets()).extracting(Allocation::state).containsOnly(TicketState.ALLOCATED);
    Slot slot = rebuilt.tickets().get(0).slot(0);
    assertThat(slot.actorId()).isEqualTo("trainer");
    assertThat(slot.gpuIds()).isEqualTo(training.slot(0).gpuIds());
    assertThat(slot.masterPort()).isEqualTo(training.masterPort());
    assertThat(rebuilt.tickets().get(1).slot(0).gpuIds()).isEqualTo(idle.slot(0).gpuIds());
    assertThat(rebuilt.actors()).extracting(ActorInfo::pid).containsExactly(trainer.info().pid());
    assertThat(rebuilt.nodes().get(0).freeGpus()).as("both GPUs stay with their tickets").isEmpty();
    assertThatThrownBy(() -> await(client.spawn("Echo", "squatter", new SpawnOptions().setGpus(1))))
      .isInstanceOf(SchedulingException.class);

    // Releasing the restored ticket stops its actor and frees its GPU.
    await(client.release("t-train"));
    assertThat(ProcessHandle.of(trainer.info().pid()).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    ActorHandle next = await(client.spawn("Echo", "after-release", new SpawnOptions().setGpus(1)));
    processes.track(next.info().pid());
    assertThat(next.info().gpuIds()).isEqualTo(training.slot(0).gpuIds());
    await(next.stop());
    await(client.release("t-idle"));
  }

  @Test
  void anAdHocActorWhoseAgentIsNotBackYetKeepsItsIdThroughAHubRestart(Vertx vertx) throws Exception {
    Path state = Files.createTempDirectory("spoke-hub-ledger");
    Cluster cluster = startCluster(vertx, "spoke-hub-ledger", "--state-dir", state.resolve("state").toString());
    SpokeClient client = cluster.client;
    ActorHandle kept = await(client.spawn("Echo", "kept-id", new SpawnOptions().setNode("n1")));
    processes.track(kept.info().pid());
    cluster.startAgent("n2");
    awaitStatus(client, st -> st.nodes().stream().filter(NodeInfo::alive).count() == 2);

    // The hub dies, and node n1's agent is paused: the restarted hub hears from n2 first.
    cluster.hub.destroyForcibly();
    assertThat(cluster.hub.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(new ProcessBuilder("kill", "-STOP", String.valueOf(cluster.agent.pid())).start().waitFor()).isZero();
    try {
      cluster.restartHub();
      awaitStatus(client, st -> st.nodes().stream().anyMatch(n -> n.id().equals("n2") && n.alive()));
      // Its journal says where kept-id runs: the id is taken (not placed again on n2), and asked for, it is "not back yet".
      Throwable duplicate = awaitFailure(client.spawn("Echo", "kept-id"));
      assertThat(duplicate).isInstanceOf(DuplicateActorException.class).hasMessageContaining("node n1")
        .hasMessageContaining("not come back");
      assertThat(awaitFailure(client.resolve("kept-id"))).isInstanceOf(UnavailableException.class).hasMessageContaining("node n1");
    } finally {
      new ProcessBuilder("kill", "-CONT", String.valueOf(cluster.agent.pid())).start().waitFor();
    }
    // n1 is back with the instance that ran all along: the hub's again, the same process, answering.
    ClusterStatus back = awaitStatus(client, st -> st.actors().stream().anyMatch(a -> a.id().equals("kept-id")
      && a.state() == ActorState.RUNNING));
    assertThat(back.actors()).filteredOn(a -> a.id().equals("kept-id")).extracting(ActorInfo::pid, ActorInfo::nodeId)
      .containsExactly(org.assertj.core.groups.Tuple.tuple(kept.info().pid(), "n1"));
    assertThat(await(kept.call(TestActors.HELLO, "still here", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, still here!");
    // Stopped, it is gone from the journal too: the id is free again for a new spawn after another restart.
    await(kept.stop());
    ActorHandle again = await(client.spawn("Echo", "kept-id", new SpawnOptions().setNode("n2")));
    processes.track(again.info().pid());
    assertThat(again.info().nodeId()).isEqualTo("n2");
  }
}
