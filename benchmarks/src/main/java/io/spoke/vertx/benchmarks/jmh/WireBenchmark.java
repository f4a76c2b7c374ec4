// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks.jmh;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.spoke.vertx.service.Wire;
import io.spoke.vertx.service.WireReader;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The generated codecs' wire format: the fields of a typical request record (a string, an int, a long, a
 * double, 32 bytes) written into a pooled buffer and read back, as generated proxies and dispatchers do.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class WireBenchmark {

  private final byte[] bytes = new byte[32];
  private Buffer encoded;

  @Setup
  public void setup() {
    ByteBuf out = PooledByteBufAllocator.DEFAULT.heapBuffer(128);
    write(out);
    encoded = BufferInternal.buffer(out);
  }

  private void write(ByteBuf out) {
    Wire.writeString(out, "generate: the quick brown fox");
    Wire.writeInt(out, 512);
    Wire.writeLong(out, 1234567890123L);
    Wire.writeDouble(out, 0.7);
    Wire.writeBytes(out, bytes);
  }

  @Benchmark
  public int writeRecord() {
    ByteBuf out = PooledByteBufAllocator.DEFAULT.directBuffer(128);
    write(out);
    int length = out.readableBytes();
    out.release();
    return length;
  }

  @Benchmark
  public double readRecord() {
    WireReader in = WireReader.of(encoded);
    return in.readString().length() + in.readInt() + in.readLong() + in.readDouble() + in.readBytes().length;
  }
}
