// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static io.spoke.vertx.test.Await.awaitFailure;
import static io.spoke.vertx.test.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.SpawnException;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.AgentVerticle;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.ManagedProcess;
import io.spoke.vertx.client.NodeInfo;
import io.spoke.vertx.client.PlacementStrategy;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.Readiness;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.client.TicketState;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.hub.HubVerticle;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.test.TcpRelay;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hub and agents that lose each other and find each other again, with the fault inflicted on a real connection
 * (a relay between agent and hub that the test cuts and holds cut): a spawn whose answer is lost with the link, an
 * exit while the link is down, a gang restart while one of its nodes is cut off, and a restarted hub that finds an
 * instance its predecessor asked for. Each ends with the hub and the agent agreeing on every instance and GPU.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class ReconcileIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);

  @TempDir
  Path dir;

  private final List<TcpRelay> relays = new ArrayList<>();

  @AfterEach
  void closeRelays() {
    relays.forEach(TcpRelay::close);
  }

  private TcpRelay relay(int port) throws Exception {
    TcpRelay relay = new TcpRelay("127.0.0.1", port);
    relays.add(relay);
    return relay;
  }

  /** A hub, and agent {@code nodeId} with 2 GPUs behind a relay, which reconnects every 100 ms. */
  private TcpRelay clusterWithRelayedAgent(Vertx vertx, String nodeId) throws Exception {
    cluster.start(vertx, new HubOptions().setHeartbeatInterval(100).setNodeTimeout(20_000));
    TcpRelay relay = relay(cluster.hubPort());
    cluster.startAgent(new AgentOptions().setNodeId(nodeId).setGpus(2).setReconnectInterval(100), relay.port());
    return relay;
  }

  /** A shell script that writes its pid to {@code pidFile}, waits for {@code gate} to exist, then runs {@code then}. */
  private static ProcessSpec gated(Path pidFile, Path gate, String then) {
    return new ProcessSpec(List.of("sh", "-c", "echo $$ > " + pidFile + "; while [ ! -f " + gate + " ]; do sleep 0.02; done; " + then));
  }

  /** The pid a script wrote first in {@code file} (its first word). */
  private long pidIn(Path file) throws Exception {
    until("the pid in " + file, () -> Files.exists(file) && !Files.readString(file).isBlank());
    return processes.track(Long.parseLong(Files.readString(file).trim().split("\\s+")[0]));
  }

  private static NodeInfo node(SpokeClient client, String id) throws Exception {
    return await(client.status()).nodes().stream().filter(n -> n.id().equals(id)).findFirst().orElseThrow();
  }

  /** Cuts the relay and holds it cut: returns once the agent has seen its link go (it tries to connect again). */
  private void cutOff(TcpRelay relay, SpokeClient client) throws Exception {
    int before = relay.accepted();
    relay.refuse(true);
    relay.cut();
    until("the agent to try to connect again", () -> relay.accepted() > before);
  }

  @Test
  void aSpawnWhoseAnswerIsLostWithTheLinkSucceedsOnceTheNodeIsBack(Vertx vertx) throws Exception {
    TcpRelay relay = clusterWithRelayedAgent(vertx, "n1");
    SpokeClient client = cluster.client();
    Path gate = dir.resolve("gate");
    Future<ManagedProcess> spawn = client.spawnProcess("gated", gated(dir.resolve("pid"), gate, "echo ready; exec sleep 600")
      .setReady(Readiness.log("^ready$")), new SpawnOptions().setGpus(1).setTimeout(60_000));
    long pid = pidIn(dir.resolve("pid"));
    // Cut while it starts: its agent can no longer answer the spawn on the connection it came on.
    cutOff(relay, client);
    Files.createFile(gate);
    relay.refuse(false);
    ManagedProcess started = await(spawn);
    assertThat(started.info().pid()).isEqualTo(pid);
    assertThat(started.info().state()).isEqualTo(ActorState.RUNNING);
    assertThat(node(client, "n1").freeGpus()).as("its GPU is held, the other free").hasSize(1).doesNotContainAnyElementsOf(
      started.info().gpuIds());
    ActorInfo stopped = await(started.stop());
    assertThat(stopped.state()).isEqualTo(ActorState.EXITED);
    ProcessCleanup.awaitExit(pid, 10_000);
    until("its GPU to be free", () -> node(client, "n1").freeGpus().size() == 2);
  }

  @Test
  void aSpawnThatFailsWhileItsLinkIsCutFailsWithItsOwnReasonOnceTheNodeIsBack(Vertx vertx) throws Exception {
    TcpRelay relay = clusterWithRelayedAgent(vertx, "n1");
    SpokeClient client = cluster.client();
    Path gate = dir.resolve("gate");
    Future<ManagedProcess> spawn = client.spawnProcess("gives-up", gated(dir.resolve("pid"), gate, "echo giving up; exit 3")
      .setReady(Readiness.log("^ready$")), new SpawnOptions().setGpus(2).setTimeout(60_000));
    long pid = pidIn(dir.resolve("pid"));
    cutOff(relay, client);
    Files.createFile(gate);
    ProcessCleanup.awaitExit(pid, 10_000);
    relay.refuse(false);
    Throwable failure = awaitFailure(spawn);
    assertThat(failure).isInstanceOf(SpawnException.class).hasMessageContaining("exited with status 3 before it was ready")
      .hasMessageContaining("giving up");
    until("both GPUs to be free", () -> node(client, "n1").freeGpus().size() == 2);
    assertThat(await(client.status()).actors()).noneMatch(a -> a.id().equals("gives-up"));
  }

  @Test
  void exitsWhileTheLinkIsDownReachTheHubWithTheirRealStatus(Vertx vertx) throws Exception {
    TcpRelay relay = clusterWithRelayedAgent(vertx, "n1");
    SpokeClient client = cluster.client();
    Path gate = dir.resolve("gate");
    ManagedProcess adHoc = await(client.spawnProcess("done-while-away", gated(dir.resolve("pid-adhoc"), gate, "exit 0")));
    Allocation gang = await(client.gangAllocate(new GangRequest().setTicketId("t-away").setGpus(1)
      .setRestart(RestartPolicy.onFailure(2).withBackoffMs(100))));
    ManagedProcess rank = await(client.launchProcess("t-away", 0, "rank-done-while-away", gated(dir.resolve("pid-rank"), gate, "exit 0")));
    long adHocPid = pidIn(dir.resolve("pid-adhoc"));
    long rankPid = pidIn(dir.resolve("pid-rank"));
    cutOff(relay, client);
    Files.createFile(gate);
    ProcessCleanup.awaitExit(adHocPid, 10_000);
    ProcessCleanup.awaitExit(rankPid, 10_000);
    relay.refuse(false);
    ActorInfo adHocEnd = await(adHoc.exit());
    assertThat(adHocEnd.exitCode()).as(adHocEnd.reason()).isZero();
    assertThat(adHocEnd.reason()).isEqualTo("exited with status 0");
    ActorInfo rankEnd = await(rank.exit());
    assertThat(rankEnd.exitCode()).as(rankEnd.reason()).isZero();
    // A rank that exited 0 is not a failure: the gang does not restart.
    Allocation after = await(client.tickets()).stream().filter(t -> t.ticketId().equals(gang.ticketId())).findFirst().orElseThrow();
    assertThat(after.restarts()).isZero();
  }

  @Test
  void aGangRestartWaitsForANodeBrieflyCutOffAndRestartsEveryRank(Vertx vertx) throws Exception {
    cluster.start(vertx, new HubOptions().setHeartbeatInterval(100).setNodeTimeout(20_000));
    cluster.startAgent(new AgentOptions().setNodeId("n1").setGpus(1));
    TcpRelay relay = relay(cluster.hubPort());
    cluster.startAgent(new AgentOptions().setNodeId("n2").setGpus(1).setReconnectInterval(100), relay.port());
    SpokeClient client = cluster.client();
    await(client.gangAllocate(new GangRequest().setTicketId("t-gang").setNodes(2).setGpus(1).setStrategy(PlacementStrategy.STRICT_SPREAD)
      .setRestart(RestartPolicy.onFailure(2).withBackoffMs(100))));
    for (int rank = 0; rank < 2; rank++) {
      await(client.launchProcess("t-gang", rank, "gang-" + rank, new ProcessSpec(List.of("sh", "-c",
        "echo $$ $SPOKE_ATTEMPT >> " + dir.resolve("rank-" + rank) + "; exec sleep 600"))));
    }
    long rank0 = pidIn(dir.resolve("rank-0"));
    long rank1 = pidIn(dir.resolve("rank-1"));
    cutOff(relay, client);
    // Rank 0 dies while rank 1's node is cut off: the gang restarts, and rank 1 cannot be stopped yet.
    ProcessHandle.of(rank0).orElseThrow().destroyForcibly();
    until("the gang restart to begin", () -> await(client.tickets()).get(0).restarts() == 1);
    until("rank 0 to start again", () -> Files.readAllLines(dir.resolve("rank-0")).size() == 2);
    assertThat(ProcessCleanup.alive(rank1)).as("rank 1's node is cut off: its rank is still there").isTrue();
    relay.refuse(false);
    until("rank 1 to start again", () -> Files.readAllLines(dir.resolve("rank-1")).size() == 2);
    ProcessCleanup.awaitExit(rank1, 10_000);
    for (int rank = 0; rank < 2; rank++) {
      List<String> starts = Files.readAllLines(dir.resolve("rank-" + rank));
      assertThat(starts.get(1)).as("rank " + rank + "'s second start").endsWith(" 1");
      processes.track(Long.parseLong(starts.get(1).split(" ")[0]));
    }
    Allocation ticket = await(client.tickets()).get(0);
    assertThat(ticket.restarts()).isEqualTo(1);
    until("both ranks to run", () -> await(client.tickets()).get(0).slots().stream().allMatch(s -> s.actorState() == ActorState.RUNNING));
  }

  /**
   * Gang t-lost (2 ranks on n1, behind the returned relay) whose rank 1 fails once: both ranks start again and the link
   * is cut while they start (attempt 1 is never ready, and times out on the agent); held cut until the hub has given
   * up waiting for their answers and the gang has restarted again, waiting for the node. The ticket is {@code owner[0]}'s.
   */
  private TcpRelay relaunchesLostWithTheLink(Vertx vertx, SpokeClient[] owner) throws Exception {
    // The node outlives a cut far longer than a start may take: the hub gives up waiting for the starts' answers.
    cluster.start(vertx, new HubOptions().setHeartbeatInterval(100).setNodeTimeout(60_000).setAgentTimeout(1_000));
    TcpRelay relay = relay(cluster.hubPort());
    cluster.startAgent(new AgentOptions().setNodeId("n1").setGpus(2).setReconnectInterval(100), relay.port());
    SpokeClient client = cluster.client();
    owner[0] = client;
    await(client.gangAllocate(new GangRequest().setTicketId("t-lost").setActorsPerNode(2).setGpus(1)
      .setRestart(RestartPolicy.onFailure(3).withBackoffMs(100))));
    Path fail = dir.resolve("fail");
    // Attempt 0 is ready at once and rank 1 fails when told; attempt 1 is never ready; attempt 2 is.
    for (int rank = 0; rank < 2; rank++) {
      await(client.launchProcess("t-lost", rank, "lost-" + rank, new ProcessSpec(List.of("sh", "-c",
        "echo $$ $SPOKE_ATTEMPT >> " + dir.resolve("rank-" + rank) + "; [ $SPOKE_ATTEMPT = 1 ] && exec sleep 600; echo ready; "
          + "if [ $SPOKE_ATTEMPT = 0 ] && [ $RANK = 1 ]; then while [ ! -f " + fail + " ]; do sleep 0.02; done; exit 4; fi; exec sleep 600"))
        .setReady(Readiness.log("^ready$")), new SpawnOptions().setTimeout(2_000)));
    }
    processes.track(pidIn(dir.resolve("rank-0")));
    processes.track(pidIn(dir.resolve("rank-1")));
    Files.createFile(fail);
    until("both ranks to start again", () -> Files.readAllLines(dir.resolve("rank-0")).size() == 2
      && Files.readAllLines(dir.resolve("rank-1")).size() == 2);
    // Cut while they start: what the agent answers (they time out) goes with the link.
    cutOff(relay, client);
    for (int rank = 0; rank < 2; rank++) {
      processes.track(Long.parseLong(Files.readAllLines(dir.resolve("rank-" + rank)).get(1).split(" ")[0]));
    }
    // The hub's wait for the answers runs out: the starts are exits, and the gang restarts again (it waits for the node).
    until("the second gang restart", () -> await(client.tickets()).get(0).restarts() == 2);
    return relay;
  }

  @Test
  void aGangRelaunchWhoseAnswerIsLostAndNeverComesIsAnExitAndTheGangRestartsAgain(Vertx vertx) throws Exception {
    SpokeClient[] owner = new SpokeClient[1];
    TcpRelay relay = relaunchesLostWithTheLink(vertx, owner);
    SpokeClient client = owner[0];
    relay.refuse(false);
    until("both ranks to run at attempt 2", () -> await(client.tickets()).get(0).slots().stream()
      .allMatch(s -> s.actorState() == ActorState.RUNNING));
    for (int rank = 0; rank < 2; rank++) {
      List<String> starts = Files.readAllLines(dir.resolve("rank-" + rank));
      assertThat(starts).hasSize(3);
      assertThat(starts.get(2)).as("rank " + rank + "'s third start").endsWith(" 2");
      processes.track(Long.parseLong(starts.get(2).split(" ")[0]));
    }
    assertThat(await(client.tickets()).get(0).state()).isEqualTo(TicketState.ALLOCATED);
  }

  @Test
  void aTicketReleasedWhileItsLostStartsAreUnconfirmedLeavesTheirGpusHeldUntilTheNodeSaysTheyAreGone(Vertx vertx) throws Exception {
    SpokeClient[] owner = new SpokeClient[1];
    TcpRelay relay = relaunchesLostWithTheLink(vertx, owner);
    SpokeClient client = owner[0];
    // Released while its node is cut off: the starts the hub gave up on may still run there, on the ticket's GPUs.
    await(client.release("t-lost"));
    assertThat(node(client, "n1").freeGpus()).as("GPUs free while what may use them is unconfirmed").isEmpty();
    relay.refuse(false);
    until("both GPUs to be free once the node says the starts are gone", () -> node(client, "n1").freeGpus().size() == 2);
    assertThat(Files.readAllLines(dir.resolve("rank-0"))).as("no rank started again after the release").hasSize(2);
  }

  @Test
  void anAgentWhoseRegistrationIsRefusedKeepsNoConnectionOpenAsItTriesAgain(Vertx vertx) throws Exception {
    cluster.start(vertx, new HubOptions().setHeartbeatInterval(100));
    cluster.startAgent(new AgentOptions().setNodeId("n1").setGpus(1));
    TcpRelay relay = relay(cluster.hubPort());
    // A second agent that says it is n1: the hub refuses its registration, and it tries again on a new connection.
    AgentVerticle twin = new AgentVerticle(new AgentOptions().setNodeId("n1").setGpus(1).setReconnectInterval(100)
      .setHubPort(relay.port()).setLogDir(dir.resolve("twin-logs").toString()).setWarmPool(0)
      .setSecurity(TestCluster.withToken(new SecurityOptions())));
    await(vertx.deployVerticle(twin));
    try {
      until("four refused registrations", () -> relay.accepted() >= 4);
      assertThat(relay.open()).as("connections the twin keeps open to the hub").isLessThanOrEqualTo(1);
      assertThat(node(cluster.client(), "n1").alive()).isTrue();
    } finally {
      await(vertx.undeploy(twin.deploymentID()));
    }
  }

  @Test
  void aRestartedHubStopsAStartItsPredecessorAskedForAndKeepsItsGpusUntilItIsGone(Vertx vertx) throws Exception {
    TcpRelay relay = clusterWithRelayedAgent(vertx, "n1");
    SpokeClient client = cluster.client();
    Path gate = dir.resolve("gate");
    Future<ManagedProcess> spawn = client.spawnProcess("orphaned", gated(dir.resolve("pid"), gate, "echo ready; exec sleep 600")
      .setReady(Readiness.log("^ready$")), new SpawnOptions().setGpus(2).setTimeout(300_000));
    long pid = pidIn(dir.resolve("pid"));
    // The hub goes; another starts in its place, knowing nothing of the spawn. The agent finds it through the relay.
    cutOff(relay, client);
    HubVerticle second = new HubVerticle(new HubOptions().setPort(0).setSecurity(TestCluster.withToken(new SecurityOptions())));
    await(vertx.deployVerticle(second));
    relay.retarget(second.actualPort());
    relay.refuse(false);
    SpokeClient other = cluster.closeAfterTest(SpokeClient.create(vertx, new SpokeClientOptions().setHubPort(second.actualPort())
      .setSecurity(TestCluster.withToken(new SecurityOptions()))));
    // Nobody waits for that start any more: it is stopped, whole.
    ProcessCleanup.awaitExit(pid, 30_000);
    until("its GPUs to be free on the new hub", () -> {
      List<NodeInfo> nodes = await(other.status()).nodes();
      return nodes.size() == 1 && nodes.get(0).freeGpus().size() == 2;
    });
    assertThat(await(other.status()).actors()).isEmpty();
    await(vertx.undeploy(second.deploymentID()));
  }
}
