// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.InfeasibleException;
import io.spoke.vertx.InvalidRequestException;
import io.spoke.vertx.PlacementTimeoutException;
import io.spoke.vertx.SchedulingException;
import io.spoke.vertx.SpawnException;
import io.spoke.vertx.TicketNotFoundException;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.PlacementStrategy;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.client.SpokeClient;
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
import io.spoke.vertx.test.Await;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.SocketAddress;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Gang allocation through a real hub and client, with agents played by the test (they answer port
 * reservations): placement, the queue, timeouts, cancellation, release, node death and client sessions.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class GangProtocolIT {

  private static final long GRACE = 300;

  private Vertx vertx;
  private Context context;
  private HubVerticle hub;
  private SpokeClient client;
  private NetClient netClient;
  private final List<Connection> agents = new ArrayList<>();
  private final List<String> releasedPorts = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    hub = new HubVerticle(new HubOptions().setPort(0).setHeartbeatInterval(50).setNodeTimeout(400).setClientGracePeriod(GRACE));
    vertx.deployVerticle(hub).await(10, TimeUnit.SECONDS);
    client = SpokeClient.create(vertx, new SpokeClientOptions().setHubPort(hub.actualPort()));
    netClient = vertx.createNetClient();
  }

  @AfterEach
  void stop() throws Exception {
    client.close().await(10, TimeUnit.SECONDS);
  }

  /** Runs on the one context of this test's connections: they are confined to their event loop. */
  private <T> T onContext(Supplier<Future<T>> action) throws Exception {
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(promise));
    return promise.future().await(20, TimeUnit.SECONDS);
  }

  /** A registered agent that answers port reservations and stops, and refuses spawns. */
  private Connection agent(String nodeId, int gpus) throws Exception {
    TestAgent agent = new TestAgent(vertx, netClient, nodeId, "10.0.0." + (agents.size() + 1), gpus, releasedPorts);
    Connection connection = onContext(() -> agent.connect(hub.actualPort()));
    agents.add(connection);
    return connection;
  }

  private static GangRequest gang(int nodes, int perNode, int gpus) {
    return new GangRequest().setNodes(nodes).setActorsPerNode(perNode).setGpus(gpus);
  }

  private List<Integer> freeGpus() throws Exception {
    List<Integer> free = new ArrayList<>();
    client.status().await(10, TimeUnit.SECONDS).nodes().forEach(n -> free.add(n.freeGpus().size()));
    return free;
  }

  @Test
  void reportsThePlacementAndTheRendezvousBeforeAnythingRuns() throws Exception {
    agent("a", 8);
    agent("b", 8);
    Allocation allocation = client.gangAllocate(gang(2, 4, 2).setPreferredNode("b")).await(10, TimeUnit.SECONDS);
    assertThat(allocation.state()).isEqualTo(TicketState.ALLOCATED);
    assertThat(allocation.worldSize()).isEqualTo(8);
    assertThat(allocation.masterAddr()).isEqualTo("10.0.0.2");
    assertThat(allocation.masterPort()).isEqualTo(29500);
    Slot rank5 = allocation.slot(5);
    assertThat(rank5.nodeId()).isEqualTo("a");
    assertThat(rank5.host()).isEqualTo("10.0.0.1");
    assertThat(rank5.localRank()).isEqualTo(1);
    assertThat(rank5.localWorldSize()).isEqualTo(4);
    assertThat(rank5.gpuIds()).containsExactly(2, 3);
    assertThat(rank5.visibleGpuIds()).containsExactly(0, 1);
    assertThat(allocation.slots()).allSatisfy(s -> assertThat(s.masterPort()).isEqualTo(29500));
    assertThat(freeGpus()).containsExactly(0, 0);
    assertThat(client.tickets().await(10, TimeUnit.SECONDS)).extracting(Allocation::ticketId).containsExactly(allocation.ticketId());

    client.release(allocation.ticketId()).await(10, TimeUnit.SECONDS);
    assertThat(freeGpus()).containsExactly(8, 8);
    assertThat(client.tickets().await(10, TimeUnit.SECONDS)).isEmpty();
    // No actor ran with the rendezvous port: the hub keeps it (the agent still holds it) for the next gang.
    assertThat(releasedPorts).isEmpty();
    // Idempotent.
    client.release(allocation.ticketId()).await(10, TimeUnit.SECONDS);
    // The first gang on b made the hub lease ports from b's agent ahead of time (29501 on): the next one is
    // answered from them, and the unused 29500 waits behind them.
    Allocation next = client.gangAllocate(gang(1, 1, 1).setPreferredNode("b")).await(10, TimeUnit.SECONDS);
    assertThat(next.masterPort()).isEqualTo(29501);
    client.release(next.ticketId()).await(10, TimeUnit.SECONDS);
    assertThat(releasedPorts).isEmpty();
    // Once a launch was attempted (this agent refuses every spawn), an actor may have bound the port:
    // it goes back to the agent, under the id the agent holds it by, to be checked free again.
    Allocation launched = client.gangAllocate(gang(1, 1, 1).setPreferredNode("b")).await(10, TimeUnit.SECONDS);
    assertThatThrownBy(() -> client.launch(launched.ticketId(), 0, "Echo", "never").await(10, TimeUnit.SECONDS))
      .isInstanceOf(SpawnException.class);
    client.release(launched.ticketId()).await(10, TimeUnit.SECONDS);
    // The hub answers the release before its ReleasePort reaches the agent: wait for it to arrive.
    Await.until("the port released back to the agent", () -> !releasedPorts.isEmpty());
    assertThat(releasedPorts).hasSize(1).allMatch(holder -> holder.startsWith("~lease-"));
    assertThatThrownBy(() -> client.release("t-never").await(10, TimeUnit.SECONDS)).isInstanceOf(TicketNotFoundException.class);
  }

  @Test
  void failsAtOnceSayingWhatIsMissing() throws Exception {
    agent("a", 8);
    client.gangAllocate(gang(1, 5, 1)).await(10, TimeUnit.SECONDS);
    assertThatThrownBy(() -> client.gangAllocate(gang(1, 8, 1)).await(10, TimeUnit.SECONDS))
      .isExactlyInstanceOf(SchedulingException.class)
      .hasMessageContaining("needs 1 node with 8 GPUs free (8 x 1 GPU); no node has that; best other node a has 3 of 8 GPUs");
    assertThatThrownBy(() -> client.gangAllocate(gang(2, 1, 1).setWaitForResources(true)).await(10, TimeUnit.SECONDS))
      .isInstanceOf(InfeasibleException.class).hasMessageContaining("can never fit");
  }

  @Test
  void aWaitingRequestIsPlacedWhenAReleaseMakesRoom() throws Exception {
    agent("a", 8);
    Allocation first = client.gangAllocate(gang(1, 6, 1)).await(10, TimeUnit.SECONDS);
    GangRequest second = gang(1, 4, 1).setWaitForResources(true).setTimeout(10_000);
    Future<Allocation> waiting = client.gangAllocate(second);
    Await.until("the second request queued", () -> client.status().await(10, TimeUnit.SECONDS).tickets().size() == 2);
    assertThat(waiting.isComplete()).as("still waiting").isFalse();
    List<Allocation> all = client.status().await(10, TimeUnit.SECONDS).tickets();
    assertThat(all).extracting(Allocation::state).containsExactly(TicketState.ALLOCATED, TicketState.PENDING);
    client.release(first.ticketId()).await(10, TimeUnit.SECONDS);
    Allocation placed = waiting.await(5, TimeUnit.SECONDS);
    assertThat(placed.ticketId()).isEqualTo(second.getTicketId());
    assertThat(placed.slots()).hasSize(4);
  }

  @Test
  void aWaitingRequestWithNoNodeRegisteredYetIsPlacedWhenTheFirstRegisters() throws Exception {
    // A hub just restarted, or just elected, before its agents are back; and without waiting it fails at once.
    assertThatThrownBy(() -> client.gangAllocate(gang(1, 1, 1)).await(10, TimeUnit.SECONDS)).isInstanceOf(InfeasibleException.class)
      .hasMessageContaining("no node is registered");
    GangRequest request = gang(1, 2, 1).setWaitForResources(true).setTimeout(30_000);
    Future<Allocation> waiting = client.gangAllocate(request);
    Await.until("the request queued", () -> client.status().await(10, TimeUnit.SECONDS).tickets().stream()
      .anyMatch(t -> t.ticketId().equals(request.getTicketId()) && t.state() == TicketState.PENDING));
    agent("a", 2);
    Allocation placed = waiting.await(10, TimeUnit.SECONDS);
    assertThat(placed.slots()).hasSize(2);
    assertThat(placed.slots()).allMatch(slot -> slot.nodeId().equals("a"));
  }

  @Test
  void aWaitingRequestTimesOutWithNothingReserved() throws Exception {
    agent("a", 4);
    client.gangAllocate(gang(1, 4, 1)).await(10, TimeUnit.SECONDS);
    long start = System.nanoTime();
    assertThatThrownBy(() -> client.gangAllocate(gang(1, 2, 1).setWaitForResources(true).setTimeout(500)).await(10, TimeUnit.SECONDS))
      .isInstanceOf(PlacementTimeoutException.class)
      .hasMessageContaining("waited 500 ms for resources and was not placed");
    assertThat((System.nanoTime() - start) / 1_000_000).isBetween(400L, 5_000L);
    assertThat(client.status().await(10, TimeUnit.SECONDS).tickets()).hasSize(1);
  }

  @Test
  void releasingAWaitingRequestCancelsIt() throws Exception {
    agent("a", 2);
    client.gangAllocate(gang(1, 2, 1)).await(10, TimeUnit.SECONDS);
    GangRequest request = gang(1, 1, 1).setWaitForResources(true).setTimeout(30_000);
    Future<Allocation> waiting = client.gangAllocate(request);
    Await.until("the request queued", () -> client.status().await(10, TimeUnit.SECONDS).tickets().stream()
      .anyMatch(t -> t.ticketId().equals(request.getTicketId()) && t.state() == TicketState.PENDING));
    client.release(request.getTicketId()).await(10, TimeUnit.SECONDS);
    assertThatThrownBy(() -> waiting.await(5, TimeUnit.SECONDS)).isInstanceOf(SchedulingException.class)
      .hasMessageContaining("was released while it waited");
  }

  @Test
  void launchRefusesUnknownTicketsAndRanksOutOfRange() throws Exception {
    agent("a", 2);
    Allocation allocation = client.gangAllocate(gang(1, 2, 1)).await(10, TimeUnit.SECONDS);
    assertThatThrownBy(() -> client.launch("t-unknown", 0, "Echo", "x").await(10, TimeUnit.SECONDS))
      .isInstanceOf(TicketNotFoundException.class).hasMessage("no ticket t-unknown is known to the hub");
    assertThatThrownBy(() -> client.launch(allocation.ticketId(), 2, "Echo", "x").await(10, TimeUnit.SECONDS))
      .isInstanceOf(InvalidRequestException.class).hasMessageContaining("rank 2 is out of range: ticket " + allocation.ticketId()
        + " has ranks 0..1");
    client.release(allocation.ticketId()).await(10, TimeUnit.SECONDS);
    assertThatThrownBy(() -> client.launch(allocation.ticketId(), 0, "Echo", "x").await(10, TimeUnit.SECONDS))
      .isInstanceOf(TicketNotFoundException.class).hasMessage("ticket " + allocation.ticketId() + " was released");
    assertThatThrownBy(() -> client.launch(allocation.ticketId(), -1, "Echo", "x").await(10, TimeUnit.SECONDS))
      .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aNodeDeathFailsItsTicketsAndTellsTheirOwner() throws Exception {
    Connection doomed = agent("a", 4);
    agent("b", 4);
    List<Allocation> events = new CopyOnWriteArrayList<>();
    client.ticketHandler(events::add);
    Allocation allocation = client.gangAllocate(gang(2, 2, 1)).await(10, TimeUnit.SECONDS);
    onContext(doomed::close);
    Await.until("the owner told of the failed ticket", () -> !events.isEmpty());
    assertThat(events.get(0).ticketId()).isEqualTo(allocation.ticketId());
    assertThat(events.get(0).state()).isEqualTo(TicketState.FAILED);
    assertThat(events.get(0).reason()).contains("node a died");
    // What the ticket holds on the surviving node stays reserved until release.
    assertThat(freeGpus()).containsExactly(0, 2);
    client.release(allocation.ticketId()).await(10, TimeUnit.SECONDS);
    assertThat(freeGpus()).containsExactly(0, 4);
  }

  /** A client that allocates and then vanishes without a word, as a crashed process would. */
  private Connection vanishingClient(String session, String ticket, boolean detached) throws Exception {
    Connection raw = onContext(() -> Connection.connect(netClient, SocketAddress.inetSocketAddress(hub.actualPort(), "127.0.0.1"),
      ClientHello.of(Role.Client, "vanishing", ClusterAuth.NONE).withMaxFrameSize(1 << 20).withSession(session).withTimeout(5_000)));
    onContext(() -> {
      Message allocate = Message.of(Body.GangAllocate, b -> GangAllocate.createGangAllocate(b, b.createString(ticket), 1, 1, 1, 0, 0, 0,
        (byte) PlacementStrategy.STRICT_PACK.ordinal(), 0, 5_000, false, detached, 0));
      return raw.request(allocate, null, 5_000, "allocate", (Frame f) -> null);
    });
    onContext(raw::close);
    return raw;
  }

  @Test
  void aClientThatDoesNotComeBackLosesItsTicketsButNotDetachedOnes() throws Exception {
    agent("a", 4);
    vanishingClient("s-gone", "t-owned", false);
    vanishingClient("s-gone-too", "t-detached", true);
    assertThat(client.status().await(10, TimeUnit.SECONDS).tickets()).hasSize(2);
    Await.until("the vanished client's ticket released", () -> client.status().await(10, TimeUnit.SECONDS).tickets().size() != 2);
    assertThat(client.status().await(10, TimeUnit.SECONDS).tickets()).extracting(Allocation::ticketId).containsExactly("t-detached");
    assertThat(freeGpus()).containsExactly(3);
  }

  @Test
  void aClientThatReconnectsWithinTheGracePeriodKeepsItsTickets() throws Exception {
    agent("a", 4);
    vanishingClient("s-back", "t-kept", false);
    Connection back = onContext(() -> Connection.connect(netClient, SocketAddress.inetSocketAddress(hub.actualPort(), "127.0.0.1"),
      ClientHello.of(Role.Client, "back", ClusterAuth.NONE).withMaxFrameSize(1 << 20).withSession("s-back").withTimeout(5_000)));
    Thread.sleep(GRACE * 3);
    assertThat(client.status().await(10, TimeUnit.SECONDS).tickets()).extracting(Allocation::ticketId).containsExactly("t-kept");
    onContext(back::close);
  }

  @Test
  void closingTheClientReleasesItsTickets() throws Exception {
    agent("a", 4);
    SpokeClient owner = SpokeClient.create(vertx, new SpokeClientOptions().setHubPort(hub.actualPort()));
    owner.gangAllocate(gang(1, 2, 1)).await(10, TimeUnit.SECONDS);
    owner.gangAllocate(gang(1, 1, 1).setDetached(true).setTicketId("t-stays")).await(10, TimeUnit.SECONDS);
    owner.close().await(10, TimeUnit.SECONDS);
    assertThat(client.status().await(10, TimeUnit.SECONDS).tickets()).extracting(Allocation::ticketId).containsExactly("t-stays");
    client.release("t-stays").await(10, TimeUnit.SECONDS);
    assertThat(freeGpus()).containsExactly(4);
  }
}
