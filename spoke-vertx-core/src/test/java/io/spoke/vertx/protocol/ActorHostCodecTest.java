// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.client.Slot;
import io.spoke.vertx.protocol.ActorCodec.RdmaConnectValue;
import io.spoke.vertx.protocol.ActorHostCodec.ActorSpecValue;
import io.spoke.vertx.protocol.fb.ActorSpec;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.spoke.vertx.protocol.fb.RdmaAccept;
import io.spoke.vertx.protocol.fb.RdmaConnect;
import io.spoke.vertx.protocol.fb.Ready;
import io.spoke.vertx.protocol.fb.StartFailed;
import io.spoke.vertx.protocol.fb.Subscribe;
import io.spoke.vertx.protocol.fb.Unsubscribe;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The actor host's messages, through the framing and back: to and from its agent ({@link ActorHostCodec}), and to and
 * from its clients besides calls ({@link ActorCodec}). The other side's messages are written or read here as that side
 * does.
 */
class ActorHostCodecTest {

  @RegisterExtension
  final WireRoundTrip wire = new WireRoundTrip();

  private Frame roundTrip(Message message, Buffer payload) {
    return wire.send(11, false, message, payload);
  }

  @Test
  void bootstrapHasAnEmptyBody() {
    Frame frame = roundTrip(ActorHostCodec.bootstrap(), null);
    assertThat(frame.bodyType()).isEqualTo(Body.Bootstrap);
    assertThat(frame.payloadLength()).isZero();
  }

  @Test
  void readyCarriesPortPidAndLocalSocket() {
    Ready ready = (Ready) roundTrip(ActorHostCodec.ready(4711, 12345L, "/run/spoke/a1.sock"), null).header().body(new Ready());
    assertThat(ready.port()).isEqualTo(4711);
    assertThat(ready.pid()).isEqualTo(12345L);
    assertThat(ready.localSocket()).isEqualTo("/run/spoke/a1.sock");

    Ready tcpOnly = (Ready) roundTrip(ActorHostCodec.ready(4712, 1L, null), null).header().body(new Ready());
    assertThat(tcpOnly.port()).isEqualTo(4712);
    assertThat(tcpOnly.localSocket()).isNull();
  }

  @Test
  void startFailedCarriesMessageAndCode() {
    StartFailed failed = (StartFailed) roundTrip(ActorHostCodec.startFailed("its constructor threw boom", ErrorCode.SpawnFailed),
      null).header().body(new StartFailed());
    assertThat(failed.message()).isEqualTo("its constructor threw boom");
    assertThat(failed.code()).isEqualTo(ErrorCode.SpawnFailed);
  }

  @Test
  void actorSpecReadsBackWithSlotGpusArgumentsSocketAndEnvironment() {
    Slot slot = new Slot("t1", 1, 4, 1, 2, "n1", "10.0.0.1", List.of(2, 3), "10.0.0.9", 29500, "w1", null);
    java.util.Map<String, String> env = new java.util.LinkedHashMap<>();
    env.put("CUDA_VISIBLE_DEVICES", "2,3");
    env.put("RANK", "1");
    Message spec = ActorHostCodec.actorSpec("Worker", "w1", "n1", List.of(2, 3), 1 << 20, slot, "/run/w1.sock", env);
    ActorSpecValue value = ActorHostCodec.readActorSpec(roundTrip(spec, Buffer.buffer("args")));
    assertThat(value.actorType()).isEqualTo("Worker");
    assertThat(value.actorId()).isEqualTo("w1");
    assertThat(value.nodeId()).isEqualTo("n1");
    assertThat(value.gpuIds()).containsExactly(2, 3);
    assertThat(value.maxFrameSize()).isEqualTo(1 << 20);
    assertThat(value.slot().ticketId()).isEqualTo("t1");
    assertThat(value.slot().globalRank()).isEqualTo(1);
    assertThat(value.slot().worldSize()).isEqualTo(4);
    assertThat(value.slot().gpuIds()).containsExactly(2, 3);
    assertThat(value.slot().masterPort()).isEqualTo(29500);
    assertThat(value.args().toString()).isEqualTo("args");
    assertThat(value.localSocket()).isEqualTo("/run/w1.sock");
    assertThat(value.env()).containsExactly(java.util.Map.entry("CUDA_VISIBLE_DEVICES", "2,3"), java.util.Map.entry("RANK", "1"));
  }

  @Test
  void callStatsReadBackPerMethodAndRefuseBucketsThatDoNotMatchTheBounds() {
    long[] bounds = {1_000, 10_000};
    ActorHostCodec.CallStatsValue stats = new ActorHostCodec.CallStatsValue(List.of(
      new ActorHostCodec.MethodCalls(7, "generate", 5, 1, 42_000, new long[] {1, 3, 1}),
      new ActorHostCodec.MethodCalls(9, null, 0, 0, 0, new long[] {0, 0, 0})), 2, bounds);
    ActorHostCodec.CallStatsValue back = ActorHostCodec.readCallStats(roundTrip(ActorHostCodec.callStats(stats), null));
    assertThat(back.refused()).isEqualTo(2);
    assertThat(back.boundsNanos()).containsExactly(1_000, 10_000);
    assertThat(back.methods()).hasSize(2);
    assertThat(back.methods().get(0).name()).isEqualTo("generate");
    assertThat(back.methods().get(0).calls()).isEqualTo(5);
    assertThat(back.methods().get(0).errors()).isEqualTo(1);
    assertThat(back.methods().get(0).sumNanos()).isEqualTo(42_000);
    assertThat(back.methods().get(0).buckets()).containsExactly(1, 3, 1);
    assertThat(back.methods().get(1).name()).isNull();
    ActorHostCodec.CallStatsValue bad = new ActorHostCodec.CallStatsValue(List.of(
      new ActorHostCodec.MethodCalls(7, null, 1, 0, 5, new long[] {1})), 0, bounds);
    assertThatThrownBy(() -> ActorHostCodec.readCallStats(roundTrip(ActorHostCodec.callStats(bad), null)))
      .isInstanceOf(io.spoke.vertx.ProtocolException.class).hasMessageContaining("1 buckets for 2 bounds");
  }

  @Test
  void actorSpecOutsideAGangHasNoSlotNorGpus() {
    Message spec = Message.of(Body.ActorSpec, b -> ActorSpec.createActorSpec(b, b.createString("Counter"), b.createString("c1"),
      0, Messages.intVector(b, List.<Integer>of()), 1024, 0, 0, 0));
    Frame frame = roundTrip(spec, null);
    ActorSpecValue value = ActorHostCodec.readActorSpec(frame);
    wire.release(frame);
    assertThat(value.nodeId()).isNull();
    assertThat(value.gpuIds()).isEmpty();
    assertThat(value.slot()).isNull();
    assertThat(value.localSocket()).isNull();
    assertThat(value.env()).isEmpty();
    // A copy: it outlives the frame.
    assertThat(value.args().length()).isZero();
  }

  @Test
  void subscribeAndUnsubscribeReadTheirMailbox() {
    assertThat(ActorCodec.readSubscribe(roundTrip(Message.of(Body.Subscribe, b -> Subscribe.createSubscribe(b, 7)), null)))
      .isEqualTo(7);
    assertThat(ActorCodec.readUnsubscribe(roundTrip(Message.of(Body.Unsubscribe, b -> Unsubscribe.createUnsubscribe(b, 9)), null)))
      .isEqualTo(9);
  }

  @Test
  void rdmaConnectAndAcceptCarryWorkerAddressAndLink() {
    byte[] clientAddress = {1, 2, 3, (byte) 0xff};
    Message connect = Message.of(Body.RdmaConnect,
      b -> RdmaConnect.createRdmaConnect(b, RdmaConnect.createWorkerAddressVector(b, clientAddress), 0x8000_0000_0000_0001L));
    RdmaConnectValue request = ActorCodec.readRdmaConnect(roundTrip(connect, null));
    assertThat(request.workerAddress()).containsExactly(clientAddress);
    assertThat(request.link()).isEqualTo(0x8000_0000_0000_0001L);

    Message noAddress = Message.of(Body.RdmaConnect, b -> RdmaConnect.createRdmaConnect(b, 0, 5));
    assertThat(ActorCodec.readRdmaConnect(roundTrip(noAddress, null)).workerAddress()).isEmpty();

    byte[] hostAddress = {9, 8, 7};
    RdmaAccept accept = (RdmaAccept) roundTrip(ActorCodec.rdmaAccept(hostAddress, 42), null).header().body(new RdmaAccept());
    assertThat(Messages.bytes(accept.workerAddressAsByteBuffer())).containsExactly(hostAddress);
    assertThat(accept.link()).isEqualTo(42);
  }
}
