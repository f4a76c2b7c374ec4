package io.spoke.vertx.rdma;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import io.spoke.vertx.rdma.RegisteredMemory.Segment;

/**
 * A Netty buffer over a {@link Segment} of registered memory, which goes back to its pool when the last
 * reference is released. If a writer grows it past the segment (a serializer that wrote more than its size
 * hint), Netty moves the bytes to ordinary direct memory; {@link #inSegment()} then says so, and a link
 * copies the frame into a fresh segment before sending.
 */
final class RegisteredByteBuf extends UnpooledUnsafeDirectByteBuf {

  private final Segment segment;

  RegisteredByteBuf(ByteBufAllocator alloc, Segment segment, int capacity, int maxCapacity) {
    super(alloc, segment.dataView(capacity), maxCapacity);
    this.segment = segment;
  }

  Segment segment() {
    return segment;
  }

  /** Whether the bytes are still in the registered segment (not moved by a capacity change). */
  boolean inSegment() {
    return memoryAddress() == segment.dataAddress();
  }

  @Override
  protected void deallocate() {
    super.deallocate();
    segment.pool.recycle(segment);
  }
}
