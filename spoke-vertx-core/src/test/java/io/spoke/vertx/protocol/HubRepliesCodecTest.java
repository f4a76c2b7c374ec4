// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.ActorTypeNotFoundException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorLog;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.GpuInfo;
import io.spoke.vertx.client.HubInfo;
import io.spoke.vertx.client.NodeInfo;
import io.spoke.vertx.client.PlacementStrategy;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.client.TicketState;
import io.spoke.vertx.protocol.fb.ActorEvent;
import io.spoke.vertx.protocol.fb.ActorSpec;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.spoke.vertx.protocol.fb.FbAllocation;
import io.spoke.vertx.protocol.fb.FbClusterStatus;
import io.spoke.vertx.protocol.fb.GangAllocate;
import io.spoke.vertx.protocol.fb.KeyValue;
import io.spoke.vertx.protocol.fb.Launch;
import io.spoke.vertx.protocol.fb.LogChunk;
import io.spoke.vertx.protocol.fb.Quantity;
import io.spoke.vertx.protocol.fb.ReadLog;
import io.spoke.vertx.protocol.fb.Ready;
import io.spoke.vertx.protocol.fb.Release;
import io.spoke.vertx.protocol.fb.Resolve;
import io.spoke.vertx.protocol.fb.Spawn;
import io.spoke.vertx.protocol.fb.StartFailed;
import io.spoke.vertx.protocol.fb.Stop;
import io.spoke.vertx.protocol.fb.TicketEvent;
import io.spoke.vertx.protocol.fb.TicketList;
import io.spoke.vertx.protocol.fb.Tickets;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the hub writes to clients, and reads of their requests; what an agent writes to its actor hosts, and reads of
 * theirs: through real frames. The other side's messages are built here by hand, as that side writes them.
 */
class HubRepliesCodecTest {

  private static final Slot SLOT = new Slot("t-1", 1, 2, 1, 2, "n1", "10.0.0.1", List.of(2), "10.0.0.1", 29500, "w-1",
    ActorState.RUNNING);
  private static final Allocation ALLOCATION = new Allocation("t-1", TicketState.ALLOCATED, PlacementStrategy.PACK, true,
    List.of(SLOT), null);
  private static final ActorInfo ACTOR = new ActorInfo("w-1", "Worker", "n1", "10.0.0.1", 40000, 77, "/logs/w-1.log",
    ActorState.RUNNING, -1, null, List.of(2), "t-1", 1);

  @RegisterExtension
  final WireRoundTrip wire = new WireRoundTrip();

  private Frame roundTrip(Message message, Buffer payload) {
    return wire.send(5, true, message, payload);
  }

  // ------------------------------------------------------------------ the hub to clients

  @Test
  void theHubAnswersWithActorsAndTellsOfTheirEnd() {
    assertThat(Messages.readActorInfo(roundTrip(HubClientCodec.actorInfo(ACTOR), null), "the hub")).usingRecursiveComparison()
      .isEqualTo(ACTOR);
    ActorInfo exited = ACTOR.withState(ActorState.EXITED, 0, "stopped");
    ActorEvent event = (ActorEvent) roundTrip(HubClientCodec.actorEvent(exited), null).header().body(new ActorEvent());
    assertThat(Messages.readActorInfo(event.actor())).usingRecursiveComparison().isEqualTo(exited);
  }

  @Test
  void aClusterStatusCarriesNodesActorsAndTickets() {
    NodeInfo node = new NodeInfo("n1", "10.0.0.1", 7100, true, List.of(new GpuInfo(2, "GPU-c", "H200", 141_000)), List.of(),
      8, 4, 64_000, 32_000, 1, Map.of("tpu", 2L), Map.of("tpu", 1L));
    ClusterStatus status = new ClusterStatus(List.of(node), List.of(ACTOR), List.of(ALLOCATION));
    Frame frame = roundTrip(HubClientCodec.clusterStatus(status), null);
    ClusterStatus read = Messages.readClusterStatus((FbClusterStatus) frame.header().body(new FbClusterStatus()));
    assertThat(read).usingRecursiveComparison().isEqualTo(status);
    assertThat(read.hubs()).isEmpty();
    assertThat(read.toJson().containsKey("hubs")).isFalse();
  }

  @Test
  void aClusterStatusOfSeveralHubsNamesTheLeaderAndTheStandbys() {
    ClusterStatus status = new ClusterStatus(List.of(), List.of(), List.of(), List.of(new HubInfo("10.0.0.1:8888", true),
      new HubInfo("10.0.0.2:8888", false)));
    ClusterStatus read = Messages.readClusterStatus((FbClusterStatus) roundTrip(HubClientCodec.clusterStatus(status), null).header()
      .body(new FbClusterStatus()));
    assertThat(read.hubs()).containsExactly(new HubInfo("10.0.0.1:8888", true), new HubInfo("10.0.0.2:8888", false));
    assertThat(read.toJson().getJsonArray("hubs").encode()).isEqualTo("[{\"address\":\"10.0.0.1:8888\",\"role\":\"leader\"},"
      + "{\"address\":\"10.0.0.2:8888\",\"role\":\"standby\"}]");
  }

  @Test
  void ticketsGoBackAsAllocationsListsAndEvents() {
    Allocation answered = Messages.readAllocation((FbAllocation) roundTrip(HubClientCodec.allocation(ALLOCATION), null).header()
      .body(new FbAllocation()));
    assertThat(answered).usingRecursiveComparison().isEqualTo(ALLOCATION);

    TicketList list = (TicketList) roundTrip(HubClientCodec.ticketList(List.of(ALLOCATION, ALLOCATION)), null).header()
      .body(new TicketList());
    assertThat(list.ticketsLength()).isEqualTo(2);
    assertThat(Messages.readAllocation(list.tickets(1))).usingRecursiveComparison().isEqualTo(ALLOCATION);

    Allocation failed = new Allocation("t-1", TicketState.FAILED, PlacementStrategy.PACK, true, List.of(SLOT), "node n1 died");
    TicketEvent event = (TicketEvent) roundTrip(HubClientCodec.ticketEvent(failed), null).header().body(new TicketEvent());
    assertThat(Messages.readAllocation(event.allocation())).usingRecursiveComparison().isEqualTo(failed);

    Allocation restarted = new Allocation("t-1", TicketState.ALLOCATED, PlacementStrategy.PACK, false, List.of(SLOT),
      "rank 1 exited with status 5; gang restart 2 of at most 3").withRestarts(RestartPolicy.onFailure(3).withBackoffMs(250), 2);
    TicketEvent restart = (TicketEvent) roundTrip(HubClientCodec.ticketEvent(restarted), null).header().body(new TicketEvent());
    Allocation read = Messages.readAllocation(restart.allocation());
    assertThat(read).usingRecursiveComparison().isEqualTo(restarted);
    assertThat(read.restarts()).isEqualTo(2);
    assertThat(read.restart()).isEqualTo(RestartPolicy.onFailure(3).withBackoffMs(250));
  }

  @Test
  void aLogChunkGoesOnToTheClientWithItsBytes() {
    ActorLog chunk = new ActorLog("/logs/w-1.log", 0, 5, 5, false, Buffer.buffer("bytes"));
    Frame frame = roundTrip(HubClientCodec.logChunk(chunk), chunk.data());
    LogChunk read = (LogChunk) frame.header().body(new LogChunk());
    assertThat(read.path()).isEqualTo("/logs/w-1.log");
    assertThat(read.nextOffset()).isEqualTo(5);
    assertThat(read.size()).isEqualTo(5);
    assertThat(read.running()).isFalse();
    assertThat(frame.payload().toString()).isEqualTo("bytes");
  }

  @Test
  void anAnswerWithoutABodyHasNone() {
    Frame frame = roundTrip(Message.NONE, null);
    assertThat(frame.bodyType()).isEqualTo(Body.NONE);
    assertThat(frame.isReply()).isTrue();
    assertThat(frame.payloadLength()).isZero();
  }

  // ------------------------------------------------------------------ clients to the hub

  @Test
  void theHubReadsAClientsSpawn() {
    Frame frame = roundTrip(Message.of(Body.Spawn, b -> {
      int env = Spawn.createEnvVector(b, new int[] {KeyValue.createKeyValue(b, b.createString("K"), b.createString("v"))});
      int jvm = Messages.stringVector(b, List.of("-Xss1m"));
      return Spawn.createSpawn(b, b.createString("Echo"), b.createString("e-1"), b.createString("n2"), 1, 2, 512, env, jvm, 3_000, 0, 0, 0,
        0, 0, false, 0);
    }), Buffer.buffer("ctor"));
    SpawnView s = HubClientCodec.readSpawn(frame);
    assertThat(s.actorType()).isEqualTo("Echo");
    assertThat(s.actorId()).isEqualTo("e-1");
    assertThat(s.nodeId()).isEqualTo("n2");
    assertThat(s.gpus()).isEqualTo(1);
    assertThat(s.cpus()).isEqualTo(2);
    assertThat(s.memoryMb()).isEqualTo(512);
    assertThat(s.timeoutMs()).isEqualTo(3_000);
    assertThat(s.env()).containsExactly(Map.entry("K", "v"));
    assertThat(s.jvmOptions()).containsExactly("-Xss1m");
    assertThat(frame.payload().toString()).isEqualTo("ctor");
  }

  @Test
  void theHubReadsAGangRequestAndALaunch() {
    GangAllocateView g = HubClientCodec.readGangAllocate(roundTrip(Message.of(Body.GangAllocate, b -> {
      int custom = GangAllocate.createCustomVector(b, new int[] {Quantity.createQuantity(b, b.createString("tpu"), 3)});
      return GangAllocate.createGangAllocate(b, b.createString("t-9"), 2, 4, 1, 8, 1024, custom, (byte) PlacementStrategy.SPREAD.ordinal(),
        b.createString("n1"), 60_000, true, true, 0);
    }), null));
    assertThat(g.ticket()).isEqualTo("t-9");
    assertThat(g.nodes()).isEqualTo(2);
    assertThat(g.actorsPerNode()).isEqualTo(4);
    assertThat(g.gpus()).isEqualTo(1);
    assertThat(g.cpus()).isEqualTo(8);
    assertThat(g.memoryMb()).isEqualTo(1024);
    assertThat(g.custom()).containsExactly(Map.entry("tpu", 3L));
    assertThat(g.strategy()).isEqualTo((byte) PlacementStrategy.SPREAD.ordinal());
    assertThat(g.preferredNode()).isEqualTo("n1");
    assertThat(g.timeoutMs()).isEqualTo(60_000);
    assertThat(g.waitForResources()).isTrue();
    assertThat(g.detached()).isTrue();

    LaunchView l = HubClientCodec.readLaunch(roundTrip(Message.of(Body.Launch, b -> {
      int env = Launch.createEnvVector(b, new int[] {KeyValue.createKeyValue(b, b.createString("A"), 0)});
      return Launch.createLaunch(b, b.createString("t-9"), 3, b.createString("Worker"), b.createString("w-3"), env,
        Messages.stringVector(b, List.of("-Da=b")), 9_000, 0, 0, 0);
    }), null));
    assertThat(l.ticket()).isEqualTo("t-9");
    assertThat(l.rank()).isEqualTo(3);
    assertThat(l.actorType()).isEqualTo("Worker");
    assertThat(l.actorId()).isEqualTo("w-3");
    assertThat(l.timeoutMs()).isEqualTo(9_000);
    assertThat(l.env()).containsEntry("A", null).hasSize(1);
    assertThat(l.jvmOptions()).containsExactly("-Da=b");
  }

  @Test
  void theHubReadsWhatSmallRequestsName() {
    assertThat(HubClientCodec.readRelease(roundTrip(Message.of(Body.Release, b -> Release.createRelease(b, b.createString("t-2"))),
      null))).isEqualTo("t-2");
    assertThat(HubClientCodec.readTickets(roundTrip(Message.of(Body.Tickets, b -> Tickets.createTickets(b, true)), null))).isTrue();
    assertThat(HubClientCodec.readStop(roundTrip(Message.of(Body.Stop, b -> Stop.createStop(b, b.createString("a-1"))), null)))
      .isEqualTo("a-1");
    assertThat(HubClientCodec.readResolve(roundTrip(Message.of(Body.Resolve, b -> Resolve.createResolve(b, b.createString("a-2"))),
      null))).isEqualTo("a-2");
    assertThat(HubClientCodec.readLogRequest(roundTrip(Message.of(Body.ReadLog, b -> ReadLog.createReadLog(b, b.createString("a-3"),
      100, 64)), null))).isEqualTo(new ReadLogRequest("a-3", 100, 64));
  }

  // ------------------------------------------------------------------ an agent and its actor hosts

  @Test
  void theAgentAnswersABootstrapWithTheActorsSpec() {
    Frame frame = roundTrip(ActorHostCodec.actorSpec("Worker", "w-1", "n1", List.of(2), 65536, SLOT, null, java.util.Map.of()),
      Buffer.buffer("ctor"));
    ActorSpec spec = (ActorSpec) frame.header().body(new ActorSpec());
    assertThat(spec.actorType()).isEqualTo("Worker");
    assertThat(spec.actorId()).isEqualTo("w-1");
    assertThat(spec.nodeId()).isEqualTo("n1");
    assertThat(spec.gpuIdsLength()).isEqualTo(1);
    assertThat(spec.gpuIds(0)).isEqualTo(2);
    assertThat(spec.maxFrameSize()).isEqualTo(65536);
    assertThat(Messages.readSlot(spec.slot())).usingRecursiveComparison().isEqualTo(SLOT);
    assertThat(frame.payload().toString()).isEqualTo("ctor");

    ActorSpec adHoc = (ActorSpec) roundTrip(ActorHostCodec.actorSpec("Echo", "e", null, List.of(), 1024, null, null,
      java.util.Map.of()), null).header()
      .body(new ActorSpec());
    assertThat(adHoc.nodeId()).isNull();
    assertThat(adHoc.slot()).isNull();
    assertThat(roundTrip(ActorHostCodec.shutdown(), null).bodyType()).isEqualTo(Body.Shutdown);
  }

  @Test
  void theAgentReadsAHostsReadyAndItsStartFailure() {
    ActorHostCodec.HostReady ready = ActorHostCodec.readReady(roundTrip(Message.of(Body.Ready,
      b -> Ready.createReady(b, 40123, 99, b.createString("/tmp/s/w-1.sock"))), null));
    assertThat(ready).isEqualTo(new ActorHostCodec.HostReady(40123, "/tmp/s/w-1.sock"));

    RuntimeException failure = ActorHostCodec.readStartFailed(roundTrip(Message.of(Body.StartFailed,
      b -> StartFailed.createStartFailed(b, b.createString("no actor type Nope"), ErrorCode.UnknownActorType)), null), "w-1");
    assertThat(failure).isInstanceOf(ActorTypeNotFoundException.class).hasMessageContaining("no actor type Nope");
  }
}
