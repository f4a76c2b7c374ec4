// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal;

import io.netty.buffer.ByteBuf;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.buffer.impl.BufferImpl;
import io.vertx.core.internal.buffer.BufferInternal;

/**
 * Access to the Netty buffer behind a Vert.x {@link Buffer}, so serializers write and read it directly.
 * Internal: not for use outside Spoke.
 */
public final class Buffers {

  private Buffers() {
  }

  /**
   * The buffer that {@code buffer} appends to, for writing: writes through it grow {@code buffer}.
   * ({@code BufferInternal.getByteBuf()} returns a fixed-size slice, which would not.)
   */
  public static ByteBuf forWrite(Buffer buffer) {
    if (buffer instanceof BufferImpl) {
      return ((BufferImpl) buffer).byteBuf();
    }
    throw new IllegalArgumentException("unsupported Buffer implementation " + buffer.getClass().getName());
  }

  /**
   * The Netty buffer whose readable bytes are {@code buffer}'s, with no new view where possible (a hot path's
   * copy source): read it with absolute indexes, and do not change its indexes or keep it.
   */
  public static ByteBuf readable(Buffer buffer) {
    if (buffer instanceof BufferImpl) {
      return ((BufferImpl) buffer).byteBuf();
    }
    return ((BufferInternal) buffer).getByteBuf();
  }

  /** A view of the readable bytes of {@code buffer}, for reading. */
  public static ByteBuf forRead(Buffer buffer) {
    return ((BufferInternal) buffer).getByteBuf();
  }
}
