// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.spoke.vertx.FrameTooLargeException;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.protocol.fb.Header;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Splits the byte stream of a connection into {@link Frame}s (layout in {@link Frame}), reading each
 * frame's header in place. The declared length is checked against {@code maxFrameSize} before anything is
 * buffered for the frame. A stream that breaks the framing yields one {@link ProtocolException} (or
 * {@link FrameTooLargeException}) message and then nothing more: the reader closes the connection, since
 * after a framing error the position of the next frame is unknown.
 */
public final class FrameDecoder extends ByteToMessageDecoder {

  /** Name of this handler in the Netty pipeline, placed before Vert.x's own handler. */
  public static final String NAME = "spoke-frame-decoder";

  private final int maxFrameSize;
  private boolean failed;

  public FrameDecoder(int maxFrameSize) {
    this.maxFrameSize = maxFrameSize;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    while (in.readableBytes() >= 4) {
      int start = in.readerIndex();
      long length = in.getUnsignedInt(start);
      if (length > maxFrameSize - 4L) {
        fail(in, out, new FrameTooLargeException("frame of " + (length + 4) + " bytes exceeds the maximum frame size of "
          + maxFrameSize + " bytes"));
        return;
      }
      if (length < 4) {
        fail(in, out, new ProtocolException("malformed frame: length " + length + " is too small to hold a header"));
        return;
      }
      if (in.readableBytes() < 4 + length) {
        return;
      }
      int frameLength = (int) length;
      int headerLength = in.getInt(start + 4);
      if (headerLength < 8 || headerLength > frameLength - 4) {
        fail(in, out, new ProtocolException("malformed frame: header length " + headerLength + " does not fit in a frame of "
          + frameLength + " bytes"));
        return;
      }
      // The frame reads the cumulation buffer in place and holds a reference to it (no slice object per frame);
      // while any frame holds one, the decoder appends to a new buffer rather than compact or grow this one.
      Frame frame;
      try {
        frame = parse(in, start, headerLength, frameLength);
      } catch (RuntimeException e) {
        fail(in, out, new ProtocolException("malformed frame header: " + e.getMessage()));
        return;
      }
      in.retain();
      in.skipBytes(4 + frameLength);
      out.add(frame);
    }
  }

  /**
   * Decodes one whole frame held in {@code frameBuf} (a message of a transport that keeps message
   * boundaries, such as UCX active messages), checking both lengths; takes ownership of {@code frameBuf}.
   *
   * @throws ProtocolException when the bytes are not one well-formed frame (the buffer is then released)
   */
  public static Frame decodeWhole(ByteBuf frameBuf) {
    try {
      int readable = frameBuf.readableBytes();
      if (readable < Frame.PREFIX_SIZE + 8) {
        throw new ProtocolException("malformed frame: " + readable + " bytes cannot hold a header");
      }
      long length = frameBuf.getUnsignedInt(frameBuf.readerIndex());
      if (length != readable - 4L) {
        throw new ProtocolException("malformed frame: length field " + length + " for a message of " + readable + " bytes");
      }
      int headerLength = frameBuf.getInt(frameBuf.readerIndex() + 4);
      if (headerLength < 8 || headerLength > length - 4) {
        throw new ProtocolException("malformed frame: header length " + headerLength + " does not fit in a frame of " + length
          + " bytes");
      }
      try {
        return parse(frameBuf, frameBuf.readerIndex(), headerLength, (int) length);
      } catch (RuntimeException e) {
        throw new ProtocolException("malformed frame header: " + e.getMessage());
      }
    } catch (RuntimeException e) {
      frameBuf.release();
      throw e;
    }
  }

  /**
   * Reads the header of a complete frame (without its leading length field's check). The FlatBuffers Java
   * runtime has no verifier: reads outside the header's region fail with an index exception, which the
   * caller turns into a protocol error.
   */
  static Frame parse(ByteBuf buf, int start, int headerLength, int frameLength) {
    ByteBuffer headerBytes = buf.nioBuffer(start + Frame.PREFIX_SIZE, headerLength);
    Header header = Header.getRootAsHeader(headerBytes);
    // Touch the fields every reader uses so that a corrupt vtable is reported here, not deep in a handler.
    header.id();
    header.bodyType();
    header.reply();
    header.code();
    int payloadOffset = Frame.PREFIX_SIZE + headerLength;
    return new Frame(buf, header, start + payloadOffset, frameLength + 4 - payloadOffset);
  }

  private void fail(ByteBuf in, List<Object> out, ProtocolException error) {
    failed = true;
    in.skipBytes(in.readableBytes());
    out.add(error);
  }
}
