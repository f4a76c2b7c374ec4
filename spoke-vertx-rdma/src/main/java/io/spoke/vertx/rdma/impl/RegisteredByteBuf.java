// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.rdma.impl;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import io.spoke.vertx.rdma.RegisteredMemory.Segment;

/**
 * A Netty buffer over a {@link Segment} of registered memory, which goes back to its pool when the last
 * reference is released. If a writer grows it past the segment (a serializer that wrote more than its size
 * hint), Netty moves the bytes to ordinary direct memory; {@link #inSegment()} then says so, and a link
 * copies the frame into a fresh segment before sending. Internal to the RDMA module: not API.
 */
public final class RegisteredByteBuf extends UnpooledUnsafeDirectByteBuf {

  private final Segment segment;

  /**
   * A buffer over {@code segment}'s data, which it owns from now on.
   *
   * @param alloc what the buffer reports as its allocator (what Netty uses for its copies)
   * @param segment the segment whose data the buffer holds
   * @param capacity the buffer's capacity, at most the segment's data capacity
   * @param maxCapacity how far a writer may grow it
   */
  public RegisteredByteBuf(ByteBufAllocator alloc, Segment segment, int capacity, int maxCapacity) {
    super(alloc, segment.dataView(capacity), maxCapacity);
    this.segment = segment;
  }

  /**
   * The registered buffer behind {@code buf} (a slice, duplicate or wrapper of one), or {@code null}.
   *
   * @param buf any buffer
   * @return the registered buffer, or {@code null}
   */
  public static RegisteredByteBuf registered(ByteBuf buf) {
    for (ByteBuf b = buf; b != null; b = b.unwrap()) {
      if (b instanceof RegisteredByteBuf) {
        return (RegisteredByteBuf) b;
      }
    }
    return null;
  }

  Segment segment() {
    return segment;
  }

  /**
   * Whether the bytes are still in the registered segment (not moved by a capacity change).
   *
   * @return {@code true} while they are
   */
  public boolean inSegment() {
    return memoryAddress() == segment.dataAddress();
  }

  @Override
  protected void deallocate() {
    super.deallocate();
    segment.pool().recycle(segment);
  }
}
