// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.WrappedByteBuf;

/**
 * A view of received bytes (a slice of a pooled receive buffer) whose copies are on the heap. Netty copies a
 * direct buffer with its allocator: for a slice of the socket's pooled buffer that is pooled direct memory,
 * which a {@code Buffer.copy()} an application keeps (as the docs tell it to) would never give back, since
 * Vert.x buffers are not released. Handlers get payloads through this view, so their copies are ordinary heap
 * memory that the garbage collector frees.
 */
public final class HeapCopyView extends WrappedByteBuf {

  public HeapCopyView(ByteBuf view) {
    super(view);
  }

  @Override
  public ByteBuf copy() {
    return copy(readerIndex(), readableBytes());
  }

  @Override
  public ByteBuf copy(int index, int length) {
    return Unpooled.buffer(length, length).writeBytes(this, index, length);
  }
}
