// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.flatbuffers.FlatBufferBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.spoke.vertx.FrameTooLargeException;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Call;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.spoke.vertx.serialization.Serializers;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The framing on buffers, with no sockets: round trips, split and merged reads, and every kind of bad frame. */
class FrameCodecTest {

  private static final int MAX = 1024 * 1024;

  private final FrameEncoder encoder = new FrameEncoder(ByteBufAllocator.DEFAULT);
  private final EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(MAX));
  private final List<Frame> frames = new ArrayList<>();

  @AfterEach
  void releaseFrames() {
    frames.forEach(Frame::release);
    channel.finishAndReleaseAll();
  }

  private ByteBuf call(long id, int method, String payload) {
    FlatBufferBuilder b = encoder.builder();
    int body = Call.createCall(b, method, false, 0, 0);
    return encoder.encode(id, false, Body.Call, body, Buffer.buffer(payload));
  }

  private Frame readFrame() {
    Object message = channel.readInbound();
    assertThat(message).isInstanceOf(Frame.class);
    Frame frame = (Frame) message;
    frames.add(frame);
    return frame;
  }

  @Test
  void copiesOfAPayloadAreOnTheHeapNotInThePooledReceiveBuffer() {
    // As a socket delivers it: in a pooled direct buffer. A copy a handler keeps must not hold pooled memory.
    ByteBuf encoded = call(3, 1, "keep me");
    ByteBuf pooled = io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(encoded.readableBytes());
    pooled.writeBytes(encoded);
    encoded.release();
    channel.writeInbound(pooled);
    Frame frame = readFrame();
    Buffer copy = frame.payload().copy();
    assertThat(((io.vertx.core.internal.buffer.BufferInternal) copy).getByteBuf().isDirect()).isFalse();
    assertThat(copy.toString()).isEqualTo("keep me");
    assertThat(frame.payload().getBuffer(0, 4).toString()).isEqualTo("keep");
  }

  @Test
  void roundTripsHeaderAndPayload() {
    channel.writeInbound(call(7, 0x60, "ZeroCopyCheck"));
    Frame frame = readFrame();
    assertThat(frame.id()).isEqualTo(7);
    assertThat(frame.isReply()).isFalse();
    assertThat(frame.bodyType()).isEqualTo(Body.Call);
    assertThat(((Call) frame.header().body(new Call())).method()).isEqualTo(0x60);
    assertThat(frame.payload().toString()).isEqualTo("ZeroCopyCheck");
    assertThat(frame.payloadLength()).isEqualTo(13);
  }

  @Test
  void framesWithoutBodyKeepTheirSizeWhenTheEncoderIsReused() {
    int first = encoder.encode(1, true, Body.NONE, 0, Serializers.STRING, "Hello from Spoke!").readableBytes();
    for (int i = 2; i < 100; i++) {
      ByteBuf reply = encoder.encode(i, true, Body.NONE, 0, Serializers.STRING, "Hello from Spoke!");
      assertThat(reply.readableBytes()).isEqualTo(first);
      reply.release();
      ByteBuf error = encoder.encode(i, true, ErrorCode.Internal, "boom", null, Body.NONE, 0);
      assertThat(error.readableBytes()).isLessThan(80);
      error.release();
    }
  }

  @Test
  void buildingABodyWithoutClearingTheBuilderIsRefused() {
    FlatBufferBuilder b = encoder.builder();
    int body = Call.createCall(b, 1, false, 0, 0);
    encoder.encode(1, false, Body.Call, body, null).release();
    assertThatThrownBy(() -> encoder.encode(2, false, Body.Call, body, null)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void errorRepliesCarryCodeMessageAndRemoteClass() {
    channel.writeInbound(encoder.encode(9, true, ErrorCode.RemoteFailure, "no weights", "java.io.IOException", Body.NONE, 0));
    Frame frame = readFrame();
    assertThat(frame.isReply()).isTrue();
    assertThat(frame.header().code()).isEqualTo(ErrorCode.RemoteFailure);
    assertThat(frame.header().message()).isEqualTo("no weights");
    assertThat(frame.header().remoteClass()).isEqualTo("java.io.IOException");
    assertThat(frame.payloadLength()).isZero();
  }

  @Test
  void messagesWriteTheirBodyIntoTheFrameAndErrorsMayCarryOne() {
    Message stop = Message.of(Body.Stop, b -> io.spoke.vertx.protocol.fb.Stop.createStop(b, b.createString("w1")));
    channel.writeInbound(encoder.encode(4, false, stop, Buffer.buffer("p")));
    Frame frame = readFrame();
    assertThat(frame.bodyType()).isEqualTo(Body.Stop);
    assertThat(((io.spoke.vertx.protocol.fb.Stop) frame.header().body(new io.spoke.vertx.protocol.fb.Stop())).actorId()).isEqualTo("w1");
    assertThat(frame.payload().toString()).isEqualTo("p");

    channel.writeInbound(encoder.encodeError(5, ErrorCode.UnknownActor, "no actor w1", null, stop));
    Frame error = readFrame();
    assertThat(error.isReply()).isTrue();
    assertThat(error.header().code()).isEqualTo(ErrorCode.UnknownActor);
    assertThat(error.bodyType()).isEqualTo(Body.Stop);
    channel.writeInbound(encoder.encodeError(6, ErrorCode.UnknownActor, "no actor w2", null, null));
    assertThat(readFrame().bodyType()).isEqualTo(Body.NONE);
    assertThat(stop).hasToString("Message[Stop]");
  }

  @Test
  void decodesAFrameDeliveredOneByteAtATime() {
    ByteBuf bytes = call(3, 1, "split across many reads");
    while (bytes.isReadable()) {
      assertThat(channel.<Object>readInbound()).isNull();
      channel.writeInbound(bytes.readRetainedSlice(1));
    }
    bytes.release();
    assertThat(readFrame().payload().toString()).isEqualTo("split across many reads");
  }

  @Test
  void decodesSeveralFramesFromOneRead() {
    ByteBuf merged = Unpooled.buffer();
    for (int i = 1; i <= 5; i++) {
      ByteBuf one = call(i, i, "payload " + i);
      merged.writeBytes(one);
      one.release();
    }
    channel.writeInbound(merged);
    for (int i = 1; i <= 5; i++) {
      Frame frame = readFrame();
      assertThat(frame.id()).isEqualTo(i);
      assertThat(frame.payload().toString()).isEqualTo("payload " + i);
    }
  }

  @Test
  void refusesAnOversizedFrameFromItsLengthAlone() {
    ByteBuf prefix = Unpooled.buffer().writeInt(1 << 30);
    channel.writeInbound(prefix);
    Object message = channel.readInbound();
    assertThat(message).isInstanceOf(FrameTooLargeException.class);
    assertThat(((Throwable) message).getMessage()).contains("exceeds the maximum frame size of " + MAX);
  }

  @Test
  void refusesAFrameTooShortForAHeader() {
    channel.writeInbound(Unpooled.buffer().writeInt(2).writeShort(0));
    assertThat(channel.<Object>readInbound()).isInstanceOf(ProtocolException.class);
  }

  @Test
  void refusesAHeaderLengthLargerThanTheFrame() {
    channel.writeInbound(Unpooled.buffer().writeInt(20).writeInt(500).writeZero(16));
    Object message = channel.readInbound();
    assertThat(message).isInstanceOf(ProtocolException.class);
    assertThat(((Throwable) message).getMessage()).contains("header length 500");
  }

  @Test
  void refusesAHeaderThatPointsOutsideItself() {
    // A FlatBuffer whose root offset points far past the header's 12 bytes.
    channel.writeInbound(Unpooled.buffer().writeInt(16).writeInt(12).writeIntLE(0x7fff_0000).writeZero(8));
    Object message = channel.readInbound();
    assertThat(message).isInstanceOf(ProtocolException.class);
    assertThat(((Throwable) message).getMessage()).startsWith("malformed frame header");
  }

  @Test
  void ignoresEverythingAfterAFramingError() {
    channel.writeInbound(Unpooled.buffer().writeInt(1 << 30));
    assertThat(channel.<Object>readInbound()).isInstanceOf(FrameTooLargeException.class);
    channel.writeInbound(call(1, 1, "valid, but the stream position is lost"));
    assertThat(channel.<Object>readInbound()).isNull();
  }

  @Test
  void survivesRandomBytesWithoutThrowing() {
    Random random = new Random(42);
    for (int round = 0; round < 2_000; round++) {
      EmbeddedChannel fuzzed = new EmbeddedChannel(new FrameDecoder(MAX));
      byte[] garbage = new byte[random.nextInt(64)];
      random.nextBytes(garbage);
      if (garbage.length >= 8 && random.nextBoolean()) {
        // Plausible lengths, garbage header: exercises the FlatBuffers reads rather than the length checks.
        ByteBuf b = Unpooled.wrappedBuffer(garbage);
        b.setInt(0, garbage.length - 4);
        b.setInt(4, random.nextInt(garbage.length - 7));
      }
      fuzzed.writeInbound(Unpooled.wrappedBuffer(garbage));
      Object message;
      while ((message = fuzzed.readInbound()) != null) {
        assertThat(message).isInstanceOfAny(Frame.class, ProtocolException.class);
        if (message instanceof Frame) {
          ((Frame) message).release();
        }
      }
      fuzzed.finishAndReleaseAll();
    }
  }

  @Test
  void encoderRefusesMessagesLargerThanThePeerAccepts() {
    encoder.peerMaxFrameSize(ProtocolVersion.MIN_MAX_FRAME_SIZE);
    FlatBufferBuilder b = encoder.builder();
    int body = Call.createCall(b, 1, false, 0, 0);
    Buffer big = Buffer.buffer(new byte[ProtocolVersion.MIN_MAX_FRAME_SIZE]);
    assertThatThrownBy(() -> encoder.encode(1, false, Body.Call, body, big))
      .isInstanceOf(FrameTooLargeException.class)
      .hasMessageContaining("exceeds the peer's maximum frame size of " + ProtocolVersion.MIN_MAX_FRAME_SIZE);
    FlatBufferBuilder b2 = encoder.builder();
    int body2 = Call.createCall(b2, 1, false, 0, 0);
    assertThatThrownBy(() -> encoder.encode(1, false, Body.Call, body2, Serializers.BUFFER, big))
      .isInstanceOf(FrameTooLargeException.class);
  }

  @Test
  void largePayloadsTheLinkSendsInPlaceAreAttachedByReferenceAndOthersCopied() {
    // A link that sends heap memory in place (an RDMA link does so with its registered memory).
    FrameEncoder inPlace = new FrameEncoder(ByteBufAllocator.DEFAULT, ByteBuf::hasArray);
    byte[] bytes = new byte[FrameEncoder.ZERO_COPY_THRESHOLD];
    new Random(1).nextBytes(bytes);
    Buffer large = Buffer.buffer(bytes);
    FlatBufferBuilder b = inPlace.builder();
    ByteBuf frame = inPlace.encode(5, false, Body.Call, Call.createCall(b, 2, false, 0, 0), large);
    assertThat(frame).isInstanceOf(CompositeByteBuf.class);
    channel.writeInbound(frame);
    assertThat(readFrame().payload()).isEqualTo(large);

    FlatBufferBuilder b2 = inPlace.builder();
    ByteBuf small = inPlace.encode(6, false, Body.Call, Call.createCall(b2, 2, false, 0, 0), Buffer.buffer("small"));
    assertThat(small).isNotInstanceOf(CompositeByteBuf.class);
    small.release();

    // A socket's encoder copies even a large heap payload into one direct buffer: the socket writes from native
    // memory, and a composite with a heap part would be merged and copied again before the write.
    FlatBufferBuilder b3 = encoder.builder();
    ByteBuf copied = encoder.encode(7, false, Body.Call, Call.createCall(b3, 2, false, 0, 0), large);
    assertThat(copied).isNotInstanceOf(CompositeByteBuf.class);
    assertThat(copied.isDirect()).isTrue();
    channel.writeInbound(copied);
    assertThat(readFrame().payload()).isEqualTo(large);
  }

  @Test
  void releasingAFrameFreesItsBuffer() {
    channel.writeInbound(call(1, 1, "x"));
    Frame frame = (Frame) channel.readInbound();
    ByteBuf payload = frame.payloadByteBuf();
    assertThat(payload.refCnt()).isPositive();
    frame.release();
    assertThat(payload.refCnt()).isZero();
  }
}
