// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import io.netty.buffer.ByteBuf;
import io.spoke.vertx.internal.Buffers;
import io.spoke.vertx.internal.HeapCopyView;
import io.spoke.vertx.protocol.fb.Header;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

/**
 * One decoded frame: its FlatBuffers header and a view of its payload, both reading the receive buffer in
 * place. A frame owns a reference to that buffer and must be {@link #release() released} exactly once.
 * <pre>
 *  0          4          8                     8 + H                       4 + L
 *  +----------+----------+---------------------+---------------------------+
 *  | L (u32)  | H (u32)  | Header (FlatBuffer) | payload (L - 4 - H bytes) |
 *  +----------+----------+---------------------+---------------------------+
 * </pre>
 * {@code L} counts every byte after itself, so a frame occupies {@code 4 + L} bytes on the wire; both
 * lengths are big-endian. The payload is raw user bytes (call arguments, results, pushed data) and never
 * passes through a FlatBufferBuilder.
 */
public final class Frame {

  /** Bytes of the two length fields. */
  public static final int PREFIX_SIZE = 8;

  private final ByteBuf buf;
  private final Header header;
  /** Where the payload starts in {@code buf}, which may hold other frames too (the decoder's cumulation). */
  private final int payloadIndex;
  private final int payloadLength;

  Frame(ByteBuf buf, Header header, int payloadIndex, int payloadLength) {
    this.buf = buf;
    this.header = header;
    this.payloadIndex = payloadIndex;
    this.payloadLength = payloadLength;
  }

  public Header header() {
    return header;
  }

  /** Correlation id; 0 for one-way messages. */
  public long id() {
    return header.id();
  }

  public boolean isReply() {
    return header.reply();
  }

  /** {@link io.spoke.vertx.protocol.fb.Body} type of the header's body. */
  public byte bodyType() {
    return header.bodyType();
  }

  public int payloadLength() {
    return payloadLength;
  }

  /**
   * A zero-copy view of the payload, valid until {@link #release()}; its copies ({@code copy()}) are on the
   * heap, not in the pooled receive memory ({@link HeapCopyView}).
   */
  public Buffer payload() {
    return BufferInternal.buffer(new HeapCopyView(payloadByteBuf()));
  }

  /** A zero-copy Netty view of the payload, valid until {@link #release()}. */
  public ByteBuf payloadByteBuf() {
    return buf.slice(payloadIndex, payloadLength);
  }

  /**
   * A copy of the payload on the heap, which outlives the frame: Vert.x's own kind of heap buffer, filled straight
   * from the receive buffer (no view of the payload is made on the way; this runs once per call reply).
   */
  public Buffer copyPayload() {
    Buffer copy = Buffer.buffer(payloadLength);
    Buffers.forWrite(copy).writeBytes(buf, payloadIndex, payloadLength);
    return copy;
  }

  public void release() {
    buf.release();
  }

  /** References to the frame's buffer: 0 once released. */
  public int refCnt() {
    return buf.refCnt();
  }
}
