// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.flatbuffers.FlatBufferBuilder;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.PlacementStrategy;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.client.TicketState;
import io.spoke.vertx.protocol.fb.KeyValue;
import io.spoke.vertx.protocol.fb.Spawn;
import io.spoke.vertx.protocol.fb.TicketList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The actor-start and ticket messages, on buffers, without sockets. */
class SpawnCodecTest {

  private static final Slot SLOT = new Slot("t-1", 3, 4, 1, 2, "n2", "10.0.0.2", List.of(5, 7), "10.0.0.1", 29500, "rank-3",
    ActorState.STARTING);

  @Test
  void aSpawnCarriesEverythingTheAgentNeedsInOrder() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("B", "2");
    env.put("A", "1");
    env.put("EMPTY", null);
    FlatBufferBuilder b = new FlatBufferBuilder();
    b.finish(SpawnCodec.writeSpawn(b, "Echo", "echo-1", "n2", List.of(5, 7), env, List.of("-Xmx64m", "-Dx=y"), 5_000, SLOT));
    Spawn s = Spawn.getRootAsSpawn(b.dataBuffer());

    assertThat(s.actorType()).isEqualTo("Echo");
    assertThat(s.actorId()).isEqualTo("echo-1");
    assertThat(s.nodeId()).isEqualTo("n2");
    assertThat(s.gpus()).isEqualTo(2);
    assertThat(s.timeoutMs()).isEqualTo(5_000);
    assertThat(SpawnCodec.gpuIds(s)).containsExactly(5, 7);
    assertThat(SpawnCodec.env(s)).containsExactly(Map.entry("B", "2"), Map.entry("A", "1"), new java.util.AbstractMap.SimpleEntry<>("EMPTY", null));
    assertThat(SpawnCodec.jvmOptions(s)).containsExactly("-Xmx64m", "-Dx=y");
    Slot slot = Messages.readSlot(s.slot());
    assertThat(slot.ticketId()).isEqualTo("t-1");
    assertThat(slot.globalRank()).isEqualTo(3);
    assertThat(slot.gpuIds()).containsExactly(5, 7);
    assertThat(slot.masterPort()).isEqualTo(29500);
  }

  @Test
  void anAdHocSpawnHasNoSlotAndAKeyGivenTwiceKeepsItsLastValue() {
    FlatBufferBuilder b = new FlatBufferBuilder();
    int first = KeyValue.createKeyValue(b, b.createString("K"), b.createString("first"));
    int second = KeyValue.createKeyValue(b, b.createString("K"), b.createString("second"));
    int envVector = Spawn.createEnvVector(b, new int[] {first, second});
    b.finish(Spawn.createSpawn(b, b.createString("Echo"), b.createString("e"), 0, 0, 0, 0, envVector, 0, 1_000, 0, 0, 0, 0, 0, false, 0));
    Spawn s = Spawn.getRootAsSpawn(b.dataBuffer());
    assertThat(SpawnCodec.env(s)).containsExactly(Map.entry("K", "second"));
    assertThat(SpawnCodec.jvmOptions(s)).isEmpty();
    assertThat(SpawnCodec.gpuIds(s)).isEmpty();
    assertThat(s.slot()).isNull();

    FlatBufferBuilder again = new FlatBufferBuilder();
    again.finish(SpawnCodec.writeSpawn(again, "Echo", "e", "n1", List.of(), Map.of(), List.of(), 1_000, null));
    assertThat(Spawn.getRootAsSpawn(again.dataBuffer()).slot()).isNull();
  }

  @Test
  void anEnvironmentEntryWithoutAKeyIsAProtocolError() {
    FlatBufferBuilder b = new FlatBufferBuilder();
    int keyless = KeyValue.createKeyValue(b, 0, b.createString("value"));
    int envVector = Spawn.createEnvVector(b, new int[] {keyless});
    b.finish(Spawn.createSpawn(b, b.createString("Echo"), b.createString("e"), 0, 0, 0, 0, envVector, 0, 1_000, 0, 0, 0, 0, 0, false, 0));
    assertThatThrownBy(() -> SpawnCodec.env(Spawn.getRootAsSpawn(b.dataBuffer()))).isInstanceOf(ProtocolException.class)
      .hasMessage("malformed message: env key is missing");
  }

  @Test
  void aTicketListKeepsItsTicketsInOrder() {
    List<Allocation> tickets = List.of(
      new Allocation("t-1", TicketState.ALLOCATED, PlacementStrategy.PACK, false, List.of(SLOT), null),
      new Allocation("t-2", TicketState.FAILED, PlacementStrategy.SPREAD, true, List.of(), "node n2 died"));
    FlatBufferBuilder b = new FlatBufferBuilder();
    b.finish(TicketCodec.writeTicketList(b, tickets));
    TicketList list = TicketList.getRootAsTicketList(b.dataBuffer());
    assertThat(list.ticketsLength()).isEqualTo(2);
    Allocation first = Messages.readAllocation(list.tickets(0));
    Allocation second = Messages.readAllocation(list.tickets(1));
    assertThat(first.ticketId()).isEqualTo("t-1");
    assertThat(first.slots()).hasSize(1);
    assertThat(second.state()).isEqualTo(TicketState.FAILED);
    assertThat(second.detached()).isTrue();
    assertThat(second.reason()).isEqualTo("node n2 died");
  }
}
