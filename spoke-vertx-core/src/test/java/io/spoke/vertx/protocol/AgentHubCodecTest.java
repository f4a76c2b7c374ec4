// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorLog;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.GpuInfo;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.protocol.fb.Body;
import io.vertx.core.buffer.Buffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The messages between agents and the hub, written by one side's codec and read by the other's, through real frames. */
class AgentHubCodecTest {

  private static final ActorInfo RUNNING = new ActorInfo("echo-1", "Echo", "n1", "10.0.0.1", 40001, 4242, "/logs/echo-1.log",
    ActorState.RUNNING, -1, null, List.of(0, 3), "t-1", 2).withLocalSocket("/tmp/s/echo-1.sock", "boot-1");

  @RegisterExtension
  final WireRoundTrip wire = new WireRoundTrip();

  private Frame roundTrip(Message message, Buffer payload) {
    return wire.send(9, false, message, payload);
  }

  @Test
  void aRegistrationCarriesTheNodeItsInstancesItsPortsAndItsUnacknowledgedExits() {
    Map<String, Long> custom = new LinkedHashMap<>();
    custom.put("tpu", 4L);
    Map<String, Integer> ports = new TreeMap<>(Map.of("t-1", 29500, "~lease-x-1", 29501));
    List<GpuInfo> gpus = List.of(new GpuInfo(0, "GPU-a", "H200", 141_000), new GpuInfo(3, "GPU-b", "H200", 141_000));
    ActorInfo starting = new ActorInfo("late-1", "Echo", "n1", "10.0.0.1", 0, 0, null, ActorState.STARTING, -1, null, List.of(1))
      .withSpawnId("hub7-42");
    ActorInfo exited = new ActorInfo("gone-1", "Echo", "n1", "10.0.0.1", 7200, 99, "/logs/gone-1.log", ActorState.EXITED, 3,
      "exited with status 3", List.of(2), "t-2", 0).withSpawnId("hub7-41").withExitedAt(1_765_000_000_123L).withRestarts(2);
    Frame frame = roundTrip(AgentHubCodec.registerNode("n1", "10.0.0.1", 7100, gpus, 16, 128_000, custom, List.of(RUNNING, starting),
      ports, List.of(exited), 5), null);

    RegisterNodeView r = AgentHubCodec.readRegisterNode(frame);
    assertThat(r.nodeId()).isEqualTo("n1");
    assertThat(r.host()).isEqualTo("10.0.0.1");
    assertThat(r.port()).isEqualTo(7100);
    assertThat(r.gpus()).usingRecursiveFieldByFieldElementComparator().containsExactlyElementsOf(gpus);
    assertThat(r.cpus()).isEqualTo(16);
    assertThat(r.memoryMb()).isEqualTo(128_000);
    assertThat(r.custom()).containsExactly(Map.entry("tpu", 4L));
    assertThat(r.ports()).containsExactly(Map.entry("t-1", 29500), Map.entry("~lease-x-1", 29501));
    assertThat(r.actorCount()).isEqualTo(2);
    assertThat(r.actor(0)).usingRecursiveComparison().isEqualTo(RUNNING);
    assertThat(r.actor(1)).usingRecursiveComparison().isEqualTo(starting);
    assertThat(r.exitCount()).isEqualTo(1);
    assertThat(r.exit(0)).usingRecursiveComparison().isEqualTo(exited);
    assertThat(r.exit(0).spawnId()).isEqualTo("hub7-41");
    assertThat(r.exit(0).exitedAtMs()).isEqualTo(1_765_000_000_123L);
    assertThat(r.exitsDropped()).isEqualTo(5);
  }

  @Test
  void aNodeWithNothingRegistersWithNothing() {
    Frame frame = roundTrip(AgentHubCodec.registerNode("n2", "h", 1, List.of(), 0, 0, Map.of(), List.of(), Map.of(), List.of(), 0), null);
    RegisterNodeView r = AgentHubCodec.readRegisterNode(frame);
    assertThat(r.gpus()).isEmpty();
    assertThat(r.custom()).isEmpty();
    assertThat(r.ports()).isEmpty();
    assertThat(r.actorCount()).isZero();
    assertThat(r.exitCount()).isZero();
    assertThat(r.exitsDropped()).isZero();
  }

  @Test
  void theHubsAnswerToARegistrationIsItsHeartbeatInterval() {
    assertThat(AgentHubCodec.readRegistered(roundTrip(AgentHubCodec.registered(250), null))).isEqualTo(250);
    Frame other = roundTrip(AgentHubCodec.portReserved(1), null);
    assertThatThrownBy(() -> AgentHubCodec.readRegistered(other)).isInstanceOf(ProtocolException.class)
      .hasMessageContaining("answered registration with message type " + Body.PortReserved);
  }

  @Test
  void heartbeatsAndActorEventsGoOneWay() {
    assertThat(roundTrip(AgentHubCodec.heartbeat(), null).bodyType()).isEqualTo(Body.Heartbeat);
    ActorInfo exited = RUNNING.withState(ActorState.EXITED, 137, "killed by SIGKILL (exit status 137)");
    ActorInfo read = AgentHubCodec.readActorEvent(roundTrip(AgentHubCodec.actorEvent(exited), null));
    assertThat(read).usingRecursiveComparison().isEqualTo(exited);
  }

  @Test
  void aSpawnToAnAgentCarriesTheRankAndTheArguments() {
    Slot slot = new Slot("t-1", 2, 4, 0, 2, "n1", "10.0.0.1", List.of(0, 3), "10.0.0.9", 29500, "echo-1", ActorState.STARTING);
    Map<String, String> env = new LinkedHashMap<>();
    env.put("B", "2");
    env.put("A", "1");
    Frame frame = roundTrip(AgentHubCodec.spawn("Echo", "echo-1", "n1", List.of(0, 3), env, List.of("-Xmx64m"), 5_000, slot),
      Buffer.buffer("args"));

    SpawnView s = AgentHubCodec.readSpawn(frame);
    assertThat(s.actorType()).isEqualTo("Echo");
    assertThat(s.actorId()).isEqualTo("echo-1");
    assertThat(s.nodeId()).isEqualTo("n1");
    assertThat(s.gpuIds()).containsExactly(0, 3);
    assertThat(s.env()).containsExactly(Map.entry("B", "2"), Map.entry("A", "1"));
    assertThat(s.jvmOptions()).containsExactly("-Xmx64m");
    assertThat(s.timeoutMs()).isEqualTo(5_000);
    assertThat(s.slot()).usingRecursiveComparison().isEqualTo(slot);
    assertThat(frame.payload().toString()).isEqualTo("args");
  }

  @Test
  void anAdHocSpawnHasNoSlot() {
    SpawnView s = AgentHubCodec.readSpawn(roundTrip(AgentHubCodec.spawn("Echo", "e", "n1", List.of(), Map.of(), List.of(), 1, null), null));
    assertThat(s.slot()).isNull();
    assertThat(s.gpuIds()).isEmpty();
  }

  @Test
  void stopsLogReadsAndPortsNameWhatTheyAreAbout() {
    assertThat(AgentHubCodec.readStop(roundTrip(AgentHubCodec.stop("echo-1"), null))).isEqualTo("echo-1");
    assertThat(AgentHubCodec.readLogRequest(roundTrip(AgentHubCodec.readLog("echo-1", 4096, 512), null)))
      .isEqualTo(new ReadLogRequest("echo-1", 4096, 512));
    assertThat(AgentHubCodec.readReservePort(roundTrip(AgentHubCodec.reservePort("~lease-x-7"), null))).isEqualTo("~lease-x-7");
    assertThat(AgentHubCodec.readReleasePort(roundTrip(AgentHubCodec.releasePort("t-1"), null))).isEqualTo("t-1");
  }

  @Test
  void anAgentAnswersWithThePortItReserved() {
    assertThat(AgentHubCodec.readPortReserved(roundTrip(AgentHubCodec.portReserved(29533), null))).isEqualTo(29533);
    Frame other = roundTrip(AgentHubCodec.registered(1), null);
    assertThatThrownBy(() -> AgentHubCodec.readPortReserved(other)).isInstanceOf(ProtocolException.class)
      .hasMessageContaining("answered a port reservation with message type " + Body.Registered);
  }

  @Test
  void aLogChunkCarriesItsBytesAsThePayload() {
    Frame frame = roundTrip(AgentHubCodec.logChunk("/logs/echo-1.log", 4101, 9000, true), Buffer.buffer("hello"));
    ActorLog log = AgentHubCodec.readLogChunk(frame, 4096);
    assertThat(log.path()).isEqualTo("/logs/echo-1.log");
    assertThat(log.offset()).isEqualTo(4096);
    assertThat(log.nextOffset()).isEqualTo(4101);
    assertThat(log.size()).isEqualTo(9000);
    assertThat(log.running()).isTrue();
    assertThat(log.data().toString()).isEqualTo("hello");
    Frame other = roundTrip(AgentHubCodec.heartbeat(), null);
    assertThatThrownBy(() -> AgentHubCodec.readLogChunk(other, 0)).isInstanceOf(ProtocolException.class)
      .hasMessageContaining("instead of a log chunk");
  }

  @Test
  void theAgentsAnswersToSpawnAndStopAreTheActor() {
    assertThat(Messages.readActorInfo(roundTrip(AgentHubCodec.actorInfo(RUNNING), null), "the agent"))
      .usingRecursiveComparison().isEqualTo(RUNNING);
  }

  @Test
  void aDismissalCarriesTheClustersExitStatusAndWhy() {
    Frame frame = roundTrip(AgentHubCodec.dismiss(3, "the run is over: it failed with status 3"), null);
    assertThat(frame.bodyType()).isEqualTo(Body.Shutdown);
    assertThat(AgentHubCodec.readDismissStatus(frame)).isEqualTo(3);
    assertThat(AgentHubCodec.readDismissReason(frame)).isEqualTo("the run is over: it failed with status 3");
    // The actor host's Shutdown (the same table, no fields) reads as a dismissal with status 0 and no reason.
    Frame bare = roundTrip(ActorHostCodec.shutdown(), null);
    assertThat(AgentHubCodec.readDismissStatus(bare)).isZero();
    assertThat(AgentHubCodec.readDismissReason(bare)).isEmpty();
  }
}
