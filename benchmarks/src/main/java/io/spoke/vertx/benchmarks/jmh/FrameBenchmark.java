// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks.jmh;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.FrameDecoder;
import io.spoke.vertx.protocol.FrameEncoder;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Call;
import io.vertx.core.buffer.Buffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/** Framing of a call: header built in the reused FlatBufferBuilder, payload appended; and its decoding. */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class FrameBenchmark {

  @Param({"64", "4096"})
  int payloadSize;

  private FrameEncoder encoder;
  private Buffer payload;
  private ByteBuf encoded;
  private EmbeddedChannel channel;
  private long id;

  @Setup
  public void setup() {
    encoder = new FrameEncoder(PooledByteBufAllocator.DEFAULT);
    payload = Buffer.buffer(new byte[payloadSize]);
    encoded = encodeCall();
    channel = new EmbeddedChannel(new FrameDecoder(64 << 20));
  }

  @TearDown
  public void tearDown() {
    encoded.release();
    channel.finishAndReleaseAll();
  }

  private ByteBuf encodeCall() {
    int body = Call.createCall(encoder.builder(), 7, false, 0, 0);
    return encoder.encode(++id, false, Body.Call, body, payload);
  }

  @Benchmark
  public int encode() {
    ByteBuf frame = encodeCall();
    int length = frame.readableBytes();
    frame.release();
    return length;
  }

  @Benchmark
  public long decode() {
    channel.writeInbound(encoded.retainedDuplicate());
    Frame frame = channel.readInbound();
    long frameId = frame.id() + frame.payloadLength();
    frame.release();
    return frameId;
  }
}
