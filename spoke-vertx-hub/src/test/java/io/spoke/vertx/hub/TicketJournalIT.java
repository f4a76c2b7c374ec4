// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub;

import static io.spoke.vertx.test.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.SchedulingException;
import io.spoke.vertx.SpawnException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.NodeInfo;
import io.spoke.vertx.client.PlacementStrategy;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.client.TicketState;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.Message;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.GangAllocate;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.SocketAddress;
import io.vertx.junit5.VertxExtension;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A hub with a {@code --state-dir} stopped and started again, with agents played by the test: the new hub takes
 * its tickets back from the journal, reserves their resources as their nodes return, adopts their running actors,
 * keeps the rendezvous ports they hold and gives every other held port back; nodes and clients that do not come
 * back in time are treated as dead and gone. (HubRestartIT kills a real hub process with SIGKILL.)
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class TicketJournalIT {

  @TempDir
  Path stateDir;

  private Vertx vertx;
  private Context context;
  private NetClient netClient;
  private int port;
  private HubVerticle hub;
  private final List<SpokeClient> clients = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.netClient = vertx.createNetClient();
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
  }

  @AfterEach
  void stop() throws Exception {
    System.clearProperty("spoke.hub.reconnectAllowanceMs");
    for (SpokeClient client : clients) {
      client.close().await(20, TimeUnit.SECONDS);
    }
  }

  private <T> T onContext(Supplier<Future<T>> action) throws Exception {
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(promise));
    return promise.future().await(20, TimeUnit.SECONDS);
  }

  private void startHub(long clientGrace) throws Exception {
    hub = new HubVerticle(new HubOptions().setPort(port).setHeartbeatInterval(50).setNodeTimeout(400).setClientGracePeriod(clientGrace)
      .setStateDir(stateDir.toString()));
    vertx.deployVerticle(hub).await(20, TimeUnit.SECONDS);
  }

  private void stopHub() throws Exception {
    vertx.undeploy(hub.deploymentID()).await(20, TimeUnit.SECONDS);
  }

  private SpokeClient client() {
    SpokeClient client = SpokeClient.create(vertx, new SpokeClientOptions().setHubPort(port));
    clients.add(client);
    return client;
  }

  private TestAgent agent(String nodeId, String host, int gpus) {
    return new TestAgent(vertx, netClient, nodeId, host, gpus, new CopyOnWriteArrayList<>());
  }

  private ClusterStatus awaitStatus(SpokeClient client, Predicate<ClusterStatus> ready) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    ClusterStatus last = null;
    while (System.nanoTime() < deadline) {
      last = await(client.status());
      if (ready.test(last)) {
        return last;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("the cluster did not reach the expected state; last status: " + last);
  }

  private static Map<String, Integer> freeGpus(ClusterStatus status) {
    return status.nodes().stream().filter(NodeInfo::alive).collect(Collectors.toMap(NodeInfo::id, n -> n.freeGpus().size(), (a, b) -> a,
      TreeMap::new));
  }

  @Test
  void aRestartedHubKeepsItsTicketsTheirGpusAndPortsAndAdoptsTheirActors() throws Exception {
    startHub(10_000);
    TestAgent a = agent("a", "10.0.0.1", 4);
    TestAgent b = agent("b", "10.0.0.2", 4);
    onContext(() -> a.connect(port));
    onContext(() -> b.connect(port));
    SpokeClient owner = client();
    Allocation spread = await(owner.gangAllocate(new GangRequest().setTicketId("t-spread").setNodes(2).setActorsPerNode(1).setGpus(2)
      .setStrategy(PlacementStrategy.STRICT_SPREAD).setPreferredNode("a")));
    Allocation detached = await(owner.gangAllocate(new GangRequest().setTicketId("t-detached").setGpus(1).setPreferredNode("b")
      .setDetached(true)));
    assertThat(spread.masterAddr()).isEqualTo("10.0.0.1");
    String spreadHolder = onContext(() -> Future.succeededFuture(a.holds.entrySet().stream()
      .filter(e -> e.getValue() == spread.masterPort()).findFirst().orElseThrow().getKey()));
    // Rank 0's actor runs on a; the hub will have to learn it from a's report.
    Slot rank0 = spread.slot(0);
    a.running.add(new ActorInfo("worker-0", "Echo", "a", "10.0.0.1", 7100, 4242, "/tmp/worker-0.log", ActorState.RUNNING, -1, null,
      rank0.gpuIds(), "t-spread", 0));

    System.setProperty("spoke.hub.reconnectAllowanceMs", "1600");
    stopHub();
    startHub(300);
    // Both tickets are back before any node is: a client that owns none sees them in the cluster's status.
    SpokeClient observer = client();
    List<Allocation> restored = await(observer.status()).tickets();
    assertThat(restored).extracting(Allocation::ticketId).containsExactly("t-spread", "t-detached");
    Allocation again = restored.get(0);
    assertThat(again.state()).isEqualTo(TicketState.ALLOCATED);
    assertThat(again.masterAddr()).isEqualTo(spread.masterAddr());
    assertThat(again.masterPort()).isEqualTo(spread.masterPort());
    for (int r = 0; r < 2; r++) {
      assertThat(again.slot(r).nodeId()).isEqualTo(spread.slot(r).nodeId());
      assertThat(again.slot(r).gpuIds()).isEqualTo(spread.slot(r).gpuIds());
    }
    assertThat(restored.get(1).slot(0).gpuIds()).isEqualTo(detached.slot(0).gpuIds());

    // a comes back holding the ticket's port, the leases of the hub before, and a port of a ticket the hub never knew.
    onContext(() -> {
      a.holds.put("t-forgotten", 29999);
      return a.connect(port);
    });
    onContext(() -> b.connect(port));
    // The owner was not asked for anything since the restart, but reconnected on its own: past the restored session's
    // grace period (the node timeout, 400 ms, plus 1,600 ms: room for the agents to register on a busy machine), its
    // ticket is still there.
    Thread.sleep(3_000);
    ClusterStatus status = awaitStatus(observer, s -> freeGpus(s).size() == 2);
    assertThat(status.tickets()).extracting(Allocation::ticketId).containsExactly("t-spread", "t-detached");
    assertThat(freeGpus(status)).as("the tickets' GPUs are reserved again").containsEntry("a", 2).containsEntry("b", 1);
    assertThat(status.actors()).extracting(ActorInfo::id).containsExactly("worker-0");
    Allocation adopted = await(owner.tickets()).get(0);
    assertThat(adopted.slot(0).actorId()).isEqualTo("worker-0");
    assertThat(adopted.slot(0).actorState()).isEqualTo(ActorState.RUNNING);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (onContext(() -> Future.succeededFuture(a.holds.size())) > 1 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(onContext(() -> Future.succeededFuture(new TreeMap<>(a.holds)))).as("only the ticket's port is still held")
      .containsExactly(Map.entry(spreadHolder, spread.masterPort()));
    assertThat(a.released).contains("t-forgotten").anyMatch(h -> h.startsWith("~lease-"));

    // The owner asks again for the same gang (as after an answer lost to the restart): it gets the allocation it has.
    GangRequest same = new GangRequest().setTicketId("t-spread").setNodes(2).setActorsPerNode(1).setGpus(2)
      .setStrategy(PlacementStrategy.STRICT_SPREAD).setPreferredNode("a");
    Allocation retried = await(owner.gangAllocate(same));
    assertThat(retried.masterPort()).isEqualTo(spread.masterPort());
    assertThat(retried.slot(1).gpuIds()).isEqualTo(spread.slot(1).gpuIds());
    assertThat(freeGpus(await(owner.status()))).containsEntry("a", 2).containsEntry("b", 1);
    // Another request under the same id, or the same from another client, is refused.
    assertThatThrownBy(() -> await(owner.gangAllocate(new GangRequest(same).setGpus(1))))
      .isInstanceOf(io.spoke.vertx.InvalidRequestException.class).hasMessageContaining("already in use");
    assertThatThrownBy(() -> await(observer.gangAllocate(same)))
      .isInstanceOf(io.spoke.vertx.InvalidRequestException.class).hasMessageContaining("already in use");

    // The books hold: nothing can take the reserved GPUs; a release stops the adopted actor and frees them.
    assertThatThrownBy(() -> await(owner.gangAllocate(new GangRequest().setGpus(3)))).isInstanceOf(SchedulingException.class);
    await(owner.release("t-spread"));
    assertThat(a.running).isEmpty();
    assertThat(freeGpus(await(owner.status()))).containsEntry("a", 4).containsEntry("b", 3);

    // Once more: the released ticket stays released (and releasing it again succeeds); the detached one stays.
    stopHub();
    startHub(10_000);
    assertThat(await(owner.tickets())).extracting(Allocation::ticketId).containsExactly("t-detached");
    await(owner.release("t-spread"));
    assertThat(Files.readAllLines(stateDir.resolve("tickets.journal"))).as("compacted: one released id, one live ticket").hasSize(2);
  }

  @Test
  void aHubWhoseJournalEndsInsideAUtf8CharacterStartsAndKeepsItsTickets() throws Exception {
    startHub(10_000);
    TestAgent a = agent("a", "10.0.0.1", 2);
    onContext(() -> a.connect(port));
    SpokeClient owner = client();
    await(owner.gangAllocate(new GangRequest().setTicketId("t-kept").setGpus(1).setDetached(true)));
    stopHub();
    // What a crash in the middle of a write leaves: the last line ends inside a two-byte character.
    byte[] torn = "{\"op\":\"failed\",\"ticket\":\"t-kept\",\"node\":\"a\",\"reason\":\"caf\u00e9".getBytes(StandardCharsets.UTF_8);
    Files.write(stateDir.resolve("tickets.journal"), Arrays.copyOf(torn, torn.length - 1), StandardOpenOption.APPEND);
    startHub(10_000);
    List<Allocation> tickets = await(client().status()).tickets();
    assertThat(tickets).extracting(Allocation::ticketId).containsExactly("t-kept");
    assertThat(tickets.get(0).state()).as("the torn record is not applied").isEqualTo(TicketState.ALLOCATED);
  }

  @Test
  void aReleaseIsOnDiskBeforeItsGpusGoToTheNextTicket() throws Exception {
    startHub(10_000);
    TestAgent a = agent("a", "10.0.0.1", 2);
    onContext(() -> a.connect(port));
    SpokeClient owner = client();
    await(owner.gangAllocate(new GangRequest().setTicketId("t-first").setGpus(2)));
    Future<Allocation> next = owner.gangAllocate(new GangRequest().setTicketId("t-next").setGpus(2).setWaitForResources(true)
      .setTimeout(20_000));
    awaitStatus(owner, s -> s.tickets().stream().anyMatch(t -> t.ticketId().equals("t-next")));
    await(owner.release("t-first"));
    await(next);
    // A hub that died between the two would come back with t-first released, never with both holding the same GPUs.
    List<String> records = Files.readAllLines(stateDir.resolve("tickets.journal")).stream()
      .map(line -> new JsonObject(line).getString("op") + " " + new JsonObject(line).getString("ticket")).collect(Collectors.toList());
    assertThat(records).containsSubsequence("released t-first", "allocated t-next");
  }

  @Test
  void aLaunchThatFailedLeavesNoRecipeForALaterGangRestart() throws Exception {
    startHub(10_000);
    TestAgent a = agent("a", "10.0.0.1", 2);
    onContext(() -> a.connect(port));
    SpokeClient owner = client();
    await(owner.gangAllocate(new GangRequest().setTicketId("t-gang").setGpus(1).setRestart(RestartPolicy.onFailure(2))));
    // The test's agent starts nothing: the launch fails, so a gang restart has nothing of it to start again.
    assertThatThrownBy(() -> await(owner.launchProcess("t-gang", 0, "never-ran", new ProcessSpec(List.of("true")), new SpawnOptions())))
      .isInstanceOf(SpawnException.class);
    stopHub();
    JsonObject recipe = new JsonObject().put("set", true);
    for (String line : Files.readAllLines(stateDir.resolve("tickets.journal"))) {
      JsonObject record = new JsonObject(line);
      if ("allocated".equals(record.getString("op")) && record.getJsonArray("recipes") != null && !record.getJsonArray("recipes").isEmpty()) {
        recipe = record.getJsonArray("recipes").getJsonObject(0);
      } else if ("launched".equals(record.getString("op")) && record.getInteger("rank") == 0) {
        recipe = record.getJsonObject("recipe");
      }
    }
    assertThat(recipe).as("rank 0's recipe, as the journal has it last").isNull();
  }

  @Test
  void aJournalThatCannotBeWrittenFailsHealthAndAllocationsUntilItCanAgain() throws Exception {
    // A real full disk: a 512 KiB tmpfs (root can mount one, as CI runs), filled up once the hub is running.
    Path disk = Files.createDirectory(stateDir.resolve("small-disk"));
    Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", disk.toString()).redirectErrorStream(true).start();
    Assumptions.assumeTrue(mount.waitFor() == 0, "needs root to mount a small tmpfs: " + new String(mount.getInputStream().readAllBytes()));
    try {
      HubOptions options = new HubOptions().setPort(port).setHttpPort(0).setStateDir(disk.resolve("state").toString());
      hub = new HubVerticle(new HubOptions(options));
      vertx.deployVerticle(hub).await(20, TimeUnit.SECONDS);
      TestAgent a = agent("a", "10.0.0.1", 4);
      onContext(() -> a.connect(port));
      SpokeClient owner = client();
      await(owner.gangAllocate(new GangRequest().setTicketId("t-before").setGpus(1)));
      Path filler = disk.resolve("filler");
      try (java.io.OutputStream out = Files.newOutputStream(filler)) {
        byte[] block = new byte[4096];
        while (true) {
          out.write(block);
        }
      } catch (java.io.IOException full) {
        assertThat(full.getMessage()).contains("No space left on device");
      }
      // The journal's last page may still have room for a few lines: allocations go on until one cannot be recorded.
      Throwable refused = null;
      for (int i = 0; i < 100 && refused == null; i++) {
        try {
          await(owner.release(await(owner.gangAllocate(new GangRequest().setTicketId("t-full-" + i).setGpus(1))).ticketId()));
        } catch (Exception e) {
          refused = e;
        }
      }
      // Refused as it is recorded, or (when a release was the write that failed) before anything is reserved.
      assertThat(refused).isNotNull();
      assertThat(refused.getMessage()).containsAnyOf("could not be recorded in the ticket journal", "cannot write the ticket journal");
      assertThatThrownBy(() -> await(owner.gangAllocate(new GangRequest().setTicketId("t-refused").setGpus(1))))
        .isInstanceOf(UnavailableException.class).hasMessageContaining("cannot write the ticket journal")
        .hasMessageContaining("allocates nothing until it can");
      for (String check : List.of("/health", "/ready")) {
        java.net.HttpURLConnection get = (java.net.HttpURLConnection) java.net.URI.create("http://127.0.0.1:" + hub.httpPort() + check)
          .toURL().openConnection();
        assertThat(get.getResponseCode()).as(check).isEqualTo(503);
        assertThat(new String(get.getErrorStream().readAllBytes(), StandardCharsets.UTF_8)).contains("cannot be written");
        get.disconnect();
      }
      // The disk has room again: the journal writes the hub's whole state, and allocations go on.
      Files.delete(filler);
      io.spoke.vertx.test.Await.until("the hub to be healthy again", () -> {
        java.net.HttpURLConnection get = (java.net.HttpURLConnection) java.net.URI.create("http://127.0.0.1:" + hub.httpPort() + "/health")
          .toURL().openConnection();
        try {
          return get.getResponseCode() == 200;
        } finally {
          get.disconnect();
        }
      });
      await(owner.gangAllocate(new GangRequest().setTicketId("t-after").setGpus(1)));
      stopHub();
      hub = new HubVerticle(new HubOptions(options));
      vertx.deployVerticle(hub).await(20, TimeUnit.SECONDS);
      assertThat(await(owner.tickets())).extracting(Allocation::ticketId).containsExactly("t-before", "t-after");
    } finally {
      if (hub != null && vertx.deploymentIDs().contains(hub.deploymentID())) {
        stopHub();
      }
      new ProcessBuilder("umount", "-l", disk.toString()).start().waitFor();
    }
  }

  /** A client that allocates and then vanishes without a word, as a crashed process would. */
  private void vanishingClient(String session, String ticket, boolean detached, int nodes) throws Exception {
    Connection raw = onContext(() -> Connection.connect(netClient, SocketAddress.inetSocketAddress(port, "127.0.0.1"),
      ClientHello.of(Role.Client, "vanishing", ClusterAuth.NONE).withMaxFrameSize(1 << 20).withSession(session).withTimeout(5_000)));
    onContext(() -> {
      Message allocate = Message.of(Body.GangAllocate, b -> GangAllocate.createGangAllocate(b, b.createString(ticket), nodes, 1, 1, 0, 0, 0,
        (byte) PlacementStrategy.STRICT_SPREAD.ordinal(), 0, 5_000, false, detached, 0));
      return raw.request(allocate, null, 5_000, "allocate", (Frame f) -> null);
    });
    onContext(raw::close);
  }

  @Test
  void nodesAndClientsThatDoNotComeBackAfterTheRestartAreDeadAndGone() throws Exception {
    System.setProperty("spoke.hub.reconnectAllowanceMs", "1000");
    startHub(60_000);
    TestAgent a = agent("a", "10.0.0.1", 4);
    TestAgent b = agent("b", "10.0.0.2", 4);
    onContext(() -> a.connect(port));
    onContext(() -> b.connect(port));
    vanishingClient("s-gone", "t-owned", false, 1);
    vanishingClient("s-elsewhere", "t-both-nodes", true, 2);

    stopHub();
    startHub(300);
    SpokeClient observer = client();
    onContext(() -> a.connect(port));
    // b never returns: the detached ticket with a rank there fails; the owned ticket's client never returns: it goes.
    ClusterStatus status = awaitStatus(observer, s -> s.tickets().size() == 1 && s.tickets().get(0).state() == TicketState.FAILED);
    Allocation failed = status.tickets().get(0);
    assertThat(failed.ticketId()).isEqualTo("t-both-nodes");
    assertThat(failed.reason()).contains("node b did not register within 1400 ms of the hub's restart");
    // What the failed ticket holds on a stays reserved until it is released, like any failed ticket's.
    assertThat(freeGpus(status)).containsExactly(Map.entry("a", 3));
    await(observer.release("t-both-nodes"));
    assertThat(freeGpus(await(observer.status()))).containsExactly(Map.entry("a", 4));
  }

  @Test
  void anActorOfATicketTheHubDoesNotHoldKeepsItsGpus() throws Exception {
    // As after a restart without the journal of the hub before: the agent reports a gang actor of an unknown ticket.
    startHub(10_000);
    TestAgent a = agent("a", "10.0.0.1", 4);
    a.running.add(new ActorInfo("orphan-0", "Echo", "a", "10.0.0.1", 7100, 4242, null, ActorState.RUNNING, -1, null, List.of(2),
      "t-lost", 0));
    onContext(() -> a.connect(port));
    SpokeClient observer = client();
    ClusterStatus status = await(observer.status());
    assertThat(status.actors()).extracting(ActorInfo::id).containsExactly("orphan-0");
    assertThat(status.nodes().get(0).freeGpus()).as("the orphan's GPU is not handed out").containsExactly(0, 1, 3);
    assertThat(status.tickets()).isEmpty();
    await(observer.stop("orphan-0"));
    assertThat(await(observer.status()).nodes().get(0).freeGpus()).containsExactly(0, 1, 2, 3);
  }

  @Test
  void aSecondHubCannotUseTheSameStateDirectory() throws Exception {
    startHub(10_000);
    int otherPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      otherPort = socket.getLocalPort();
    }
    HubVerticle second = new HubVerticle(new HubOptions().setPort(otherPort).setStateDir(stateDir.toString()));
    assertThatThrownBy(() -> vertx.deployVerticle(second).await(20, TimeUnit.SECONDS))
      .hasMessageContaining("another hub uses the state directory");
  }
}
