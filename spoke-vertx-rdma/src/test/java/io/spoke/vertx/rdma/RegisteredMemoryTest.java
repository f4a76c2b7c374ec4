// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.rdma;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.spoke.vertx.rdma.RegisteredMemory.Segment;
import io.spoke.vertx.rdma.impl.RegisteredByteBuf;
import io.spoke.vertx.rdma.impl.UcxRuntime;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import org.junit.jupiter.api.Test;

/** The registered pool, on the real UCX context of this process. */
class RegisteredMemoryTest {

  private final RegisteredMemory memory = UcxRuntime.get().memory();

  @Test
  void smallSegmentsComeFromSlabsAndAreReused() {
    long before = memory.inUse();
    Segment a = memory.take(100);
    Segment b = memory.take(100);
    assertThat(a.dataCapacity()).isGreaterThanOrEqualTo(100).isLessThan(4096);
    assertThat(b.dataAddress()).isNotEqualTo(a.dataAddress());
    assertThat(memory.inUse()).isEqualTo(before + 2);
    memory.recycle(b);
    Segment c = memory.take(100);
    assertThat(c.dataAddress()).as("last returned, first reused").isEqualTo(b.dataAddress());
    memory.recycle(a);
    memory.recycle(c);
    assertThat(memory.inUse()).isEqualTo(before);
  }

  @Test
  void largeSizesAreRoundedToAQuarterOfTheirPowerOfTwo() {
    assertThat(RegisteredMemory.largeSize(1 << 20)).isEqualTo(1 << 20);
    assertThat(RegisteredMemory.largeSize((1 << 20) + 1)).isEqualTo(5L << 18);
    assertThat(RegisteredMemory.largeSize((64 << 20) + 80)).isEqualTo(80L << 20);
    long before = memory.inUse();
    Segment large = memory.take(64 << 20);
    assertThat(large.dataCapacity()).isGreaterThanOrEqualTo(64 << 20);
    memory.recycle(large);
    Segment again = memory.take(64 << 20);
    assertThat(again.dataAddress()).as("kept for reuse").isEqualTo(large.dataAddress());
    memory.recycle(again);
    assertThat(memory.inUse()).isEqualTo(before);
  }

  @Test
  void aBufferReturnsItsSegmentOnReleaseEvenAfterOutgrowingIt() {
    long before = memory.inUse();
    ByteBuf buf = memory.buffer(16);
    assertThat(((RegisteredByteBuf) buf).inSegment()).isTrue();
    buf.writeBytes(new byte[200_000]);
    assertThat(((RegisteredByteBuf) buf).inSegment()).as("moved to ordinary memory when it grew").isFalse();
    buf.release();
    assertThat(memory.inUse()).isEqualTo(before);
  }

  @Test
  void copiesOfRegisteredBuffersAreOnTheHeapAndHoldNoSegment() {
    long before = memory.inUse();
    ByteBuf buf = memory.buffer(64);
    buf.writeLong(42);
    Buffer copy = BufferInternal.buffer(buf).copy();
    buf.release();
    assertThat(memory.inUse()).isEqualTo(before);
    assertThat(((BufferInternal) copy).getByteBuf().isDirect()).isFalse();
    assertThat(copy.getLong(0)).isEqualTo(42);
  }

  @Test
  void theRegisteredBufferIsFoundBehindVertxBufferWrappers() {
    ByteBuf buf = memory.buffer(64);
    Buffer buffer = BufferInternal.buffer(buf);
    assertThat(RegisteredByteBuf.registered(((BufferInternal) buffer).getByteBuf())).isSameAs(buf);
    assertThat(RegisteredByteBuf.registered(io.netty.buffer.Unpooled.buffer(8))).isNull();
    buf.release();
  }
}
