// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorLog;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.GpuInfo;
import io.spoke.vertx.client.NodeInfo;
import io.spoke.vertx.client.PlacementStrategy;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.TicketState;
import io.spoke.vertx.protocol.fb.ActorEvent;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.GangAllocate;
import io.spoke.vertx.protocol.fb.Launch;
import io.spoke.vertx.protocol.fb.LogChunk;
import io.spoke.vertx.protocol.fb.Quantity;
import io.spoke.vertx.protocol.fb.RdmaAccept;
import io.spoke.vertx.protocol.fb.RdmaConnect;
import io.spoke.vertx.protocol.fb.ReadLog;
import io.spoke.vertx.protocol.fb.Release;
import io.spoke.vertx.protocol.fb.Resolve;
import io.spoke.vertx.protocol.fb.Spawn;
import io.spoke.vertx.protocol.fb.Stop;
import io.spoke.vertx.protocol.fb.Subscribe;
import io.spoke.vertx.protocol.fb.TicketEvent;
import io.spoke.vertx.protocol.fb.Tickets;
import io.spoke.vertx.protocol.fb.Unsubscribe;
import io.vertx.core.buffer.Buffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The client's side of {@link HubClientCodec} and {@link ActorCodec}, through {@link FrameEncoder} and
 * {@link FrameDecoder} on buffers: what the client writes reads back as written, and what it reads of the hub's and
 * the actor host's answers is what they wrote.
 */
class ClientCodecsRoundTripTest {

  private static final Slot SLOT = new Slot("t-1", 1, 2, 1, 2, "n1", "10.0.0.1", List.of(3), "10.0.0.1", 29500, "rank-1",
    ActorState.RUNNING);
  private static final Allocation ALLOCATION = new Allocation("t-1", TicketState.ALLOCATED, PlacementStrategy.SPREAD, true,
    List.of(SLOT), null);
  private static final ActorInfo ACTOR = new ActorInfo("w1", "Worker", "n1", "10.0.0.1", 4711, 1234, "/logs/w1.log",
    ActorState.RUNNING, 0, null, List.of(0, 1), "t-1", 1).withLocalSocket("/run/w1.sock", "host-a");

  @RegisterExtension
  final WireRoundTrip wire = new WireRoundTrip();

  /** {@code message} with {@code payload} as sent and read back by the other side. */
  private Frame roundTrip(long id, boolean reply, Message message, Buffer payload) {
    return wire.send(id, reply, message, payload);
  }

  @Test
  void aSpawnCarriesItsOptionsAndArguments() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("B", "2");
    env.put("A", "1");
    SpawnOptions options = new SpawnOptions().setNode("n2").setGpus(2).setCpus(4).setMemoryMb(512).setEnv(env)
      .setJvmOptions(List.of("-Xmx64m")).setWaitForResources(true);
    Frame frame = roundTrip(3, false, HubClientCodec.spawn("Worker", "w1", options, 7_000), Buffer.buffer("args"));

    Spawn s = (Spawn) frame.header().body(new Spawn());
    assertThat(s.actorType()).isEqualTo("Worker");
    assertThat(s.actorId()).isEqualTo("w1");
    assertThat(s.nodeId()).isEqualTo("n2");
    assertThat(s.gpus()).isEqualTo(2);
    assertThat(s.cpus()).isEqualTo(4);
    assertThat(s.memoryMb()).isEqualTo(512);
    assertThat(s.timeoutMs()).isEqualTo(7_000);
    assertThat(s.waitForResources()).isTrue();
    assertThat(SpawnCodec.env(s)).containsExactly(Map.entry("B", "2"), Map.entry("A", "1"));
    assertThat(SpawnCodec.jvmOptions(s)).containsExactly("-Xmx64m");
    assertThat(s.gpuIdsLength()).isZero();
    assertThat(s.slot()).isNull();
    assertThat(frame.payload().toString()).isEqualTo("args");

    Spawn anywhere = (Spawn) roundTrip(4, false, HubClientCodec.spawn("Worker", "w2", new SpawnOptions(), 1_000), null)
      .header().body(new Spawn());
    assertThat(anywhere.nodeId()).isNull();
    assertThat(anywhere.waitForResources()).as("fails at once unless asked to wait").isFalse();
    assertThat(SpawnCodec.env(anywhere)).isEmpty();
  }

  @Test
  void aGangAllocateCarriesTheWholeRequest() {
    GangRequest request = new GangRequest().setTicketId("t-9").setNodes(2).setActorsPerNode(4).setGpus(1).setCpus(2)
      .setMemoryMb(1024).setCustomResources(Map.of("rdma_nic", 1L)).setStrategy(PlacementStrategy.STRICT_SPREAD)
      .setPreferredNode("n3").setWaitForResources(true).setDetached(true);
    GangAllocate g = (GangAllocate) roundTrip(5, false, HubClientCodec.gangAllocate(request, 30_000), null)
      .header().body(new GangAllocate());

    assertThat(g.ticket()).isEqualTo("t-9");
    assertThat(g.nodes()).isEqualTo(2);
    assertThat(g.actorsPerNode()).isEqualTo(4);
    assertThat(g.gpus()).isEqualTo(1);
    assertThat(g.cpus()).isEqualTo(2);
    assertThat(g.memoryMb()).isEqualTo(1024);
    assertThat(Messages.readQuantities(g.customLength(), (Quantity q, Integer i) -> g.custom(q, i)))
      .containsExactly(Map.entry("rdma_nic", 1L));
    assertThat(g.strategy()).isEqualTo((byte) PlacementStrategy.STRICT_SPREAD.ordinal());
    assertThat(g.preferredNode()).isEqualTo("n3");
    assertThat(g.timeoutMs()).isEqualTo(30_000);
    assertThat(g.waitForResources()).isTrue();
    assertThat(g.detached()).isTrue();
  }

  @Test
  void aLaunchNamesItsTicketAndRank() {
    SpawnOptions options = new SpawnOptions().setEnv(Map.of("K", "v")).setJvmOptions(List.of("-Da=b"));
    Launch l = (Launch) roundTrip(6, false, HubClientCodec.launch("t-1", 3, "Worker", "rank-3", options, 9_000), null)
      .header().body(new Launch());
    assertThat(l.ticket()).isEqualTo("t-1");
    assertThat(l.rank()).isEqualTo(3);
    assertThat(l.actorType()).isEqualTo("Worker");
    assertThat(l.actorId()).isEqualTo("rank-3");
    assertThat(SpawnCodec.env(l)).containsExactly(Map.entry("K", "v"));
    assertThat(SpawnCodec.jvmOptions(l)).containsExactly("-Da=b");
    assertThat(l.timeoutMs()).isEqualTo(9_000);
  }

  @Test
  void theSmallRequestsCarryTheirOneOrTwoFields() {
    assertThat(((Release) roundTrip(7, false, HubClientCodec.release("t-2"), null).header().body(new Release())).ticket())
      .isEqualTo("t-2");
    assertThat(((Tickets) roundTrip(8, false, HubClientCodec.tickets(), null).header().body(new Tickets())).all()).isFalse();
    ReadLog r = (ReadLog) roundTrip(9, false, HubClientCodec.readLog("w1", 100, 4096), null).header().body(new ReadLog());
    assertThat(r.actorId()).isEqualTo("w1");
    assertThat(r.offset()).isEqualTo(100);
    assertThat(r.maxBytes()).isEqualTo(4096);
    assertThat(((Stop) roundTrip(10, false, HubClientCodec.stop("w1"), null).header().body(new Stop())).actorId()).isEqualTo("w1");
    assertThat(((Resolve) roundTrip(11, false, HubClientCodec.resolve("w3"), null).header().body(new Resolve())).actorId())
      .isEqualTo("w3");
    assertThat(roundTrip(12, false, HubClientCodec.status(), null).bodyType()).isEqualTo(Body.Status);
  }

  @Test
  void readsTheHubsTicketsAllocationsAndStatus() {
    Frame list = roundTrip(20, true, Message.of(Body.TicketList, b -> TicketCodec.writeTicketList(b, List.of(ALLOCATION))), null);
    List<Allocation> tickets = HubClientCodec.readTicketList(list);
    assertThat(tickets).hasSize(1);
    assertThat(tickets.get(0).toJson()).isEqualTo(ALLOCATION.toJson());

    Frame allocation = roundTrip(21, true, Message.of(Body.FbAllocation, b -> Messages.writeAllocation(b, ALLOCATION, "s-1")), null);
    assertThat(HubClientCodec.readAllocation(allocation).toJson()).isEqualTo(ALLOCATION.toJson());

    NodeInfo node = new NodeInfo("n1", "10.0.0.1", 7001, true, List.of(new GpuInfo(0, "GPU-0", "H200", 141_000)), List.of(0), 16, 12,
      65_536, 60_000, 1, Map.of("rdma_nic", 2L), Map.of("rdma_nic", 1L));
    ClusterStatus written = new ClusterStatus(List.of(node), List.of(ACTOR), List.of(ALLOCATION));
    ClusterStatus read = HubClientCodec.readClusterStatus(
      roundTrip(22, true, Message.of(Body.FbClusterStatus, b -> Messages.writeClusterStatus(b, written)), null));
    assertThat(read.nodes()).singleElement().satisfies(n -> assertThat(n.toJson()).isEqualTo(node.toJson()));
    assertThat(read.actors()).singleElement().satisfies(a -> assertThat(a.toJson()).isEqualTo(ACTOR.toJson()));
    assertThat(read.tickets()).singleElement().satisfies(t -> assertThat(t.toJson()).isEqualTo(ALLOCATION.toJson()));
  }

  @Test
  void readsALogChunkAndItsBytes() {
    Message chunk = Message.of(Body.LogChunk, b -> LogChunk.createLogChunk(b, b.createString("/logs/w1.log"), 150, 900, true));
    ActorLog log = HubClientCodec.readLogChunk(roundTrip(23, true, chunk, Buffer.buffer("0123456789")), 140);
    assertThat(log.path()).isEqualTo("/logs/w1.log");
    assertThat(log.offset()).isEqualTo(140);
    assertThat(log.nextOffset()).isEqualTo(150);
    assertThat(log.size()).isEqualTo(900);
    assertThat(log.running()).isTrue();
    assertThat(log.data().toString()).isEqualTo("0123456789");
  }

  @Test
  void readsActorAndTicketEventsAndEventsThatCarryNothing() {
    Frame actor = roundTrip(0, false, Message.of(Body.ActorEvent,
      b -> ActorEvent.createActorEvent(b, Messages.writeActorInfo(b, ACTOR))), null);
    assertThat(HubClientCodec.readActorEvent(actor).toJson()).isEqualTo(ACTOR.toJson());
    Frame ticket = roundTrip(0, false, Message.of(Body.TicketEvent, b -> TicketCodec.writeTicketEvent(b, ALLOCATION)), null);
    assertThat(HubClientCodec.readTicketEvent(ticket).toJson()).isEqualTo(ALLOCATION.toJson());

    assertThat(HubClientCodec.readActorEvent(roundTrip(0, false, Message.of(Body.ActorEvent, b -> {
      ActorEvent.startActorEvent(b);
      return ActorEvent.endActorEvent(b);
    }), null))).isNull();
    assertThat(HubClientCodec.readTicketEvent(roundTrip(0, false, Message.of(Body.TicketEvent, b -> {
      TicketEvent.startTicketEvent(b);
      return TicketEvent.endTicketEvent(b);
    }), null))).isNull();
  }

  @Test
  void answersOfTheWrongTypeAreProtocolErrors() {
    Frame stop = roundTrip(24, true, HubClientCodec.stop("w1"), null);
    assertThatThrownBy(() -> HubClientCodec.readTicketList(stop)).isInstanceOf(ProtocolException.class)
      .hasMessageContaining("instead of a ticket list");
    assertThatThrownBy(() -> HubClientCodec.readLogChunk(stop, 0)).isInstanceOf(ProtocolException.class)
      .hasMessageContaining("instead of a log chunk");
    assertThatThrownBy(() -> HubClientCodec.readAllocation(stop)).isInstanceOf(ProtocolException.class)
      .hasMessageContaining("expected an allocation");
    assertThatThrownBy(() -> HubClientCodec.readClusterStatus(stop)).isInstanceOf(ProtocolException.class)
      .hasMessageContaining("answered status");
    assertThatThrownBy(() -> ActorCodec.readRdmaAccept(stop)).isInstanceOf(ProtocolException.class)
      .hasMessageContaining("expected RdmaAccept");
  }

  @Test
  void subscriptionsAndTheRdmaHandshakeRoundTrip() {
    assertThat(((Subscribe) roundTrip(30, false, ActorCodec.subscribe(7), null).header().body(new Subscribe())).mailbox())
      .isEqualTo(7);
    assertThat(((Unsubscribe) roundTrip(31, false, ActorCodec.unsubscribe(8), null).header().body(new Unsubscribe())).mailbox())
      .isEqualTo(8);
    RdmaConnect connect = (RdmaConnect) roundTrip(32, false, ActorCodec.rdmaConnect(new byte[] {1, 2, 3}, 42L), null)
      .header().body(new RdmaConnect());
    assertThat(Messages.bytes(connect.workerAddressAsByteBuffer())).containsExactly(1, 2, 3);
    assertThat(connect.link()).isEqualTo(42L);

    Message accept = Message.of(Body.RdmaAccept,
      b -> RdmaAccept.createRdmaAccept(b, RdmaAccept.createWorkerAddressVector(b, new byte[] {9, 8}), 43L));
    ActorCodec.RdmaAcceptValue peer = ActorCodec.readRdmaAccept(roundTrip(32, true, accept, null));
    assertThat(peer.workerAddress()).containsExactly(9, 8);
    assertThat(peer.link()).isEqualTo(43L);

    Message noAddress = Message.of(Body.RdmaAccept, b -> RdmaAccept.createRdmaAccept(b, 0, 44L));
    Frame empty = roundTrip(33, true, noAddress, null);
    assertThatThrownBy(() -> ActorCodec.readRdmaAccept(empty)).isInstanceOf(ProtocolException.class)
      .hasMessageContaining("without a worker address");
  }
}
