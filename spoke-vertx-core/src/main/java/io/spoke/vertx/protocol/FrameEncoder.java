// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import com.google.flatbuffers.FlatBufferBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.spoke.vertx.FrameTooLargeException;
import io.spoke.vertx.internal.Buffers;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Call;
import io.spoke.vertx.protocol.fb.Header;
import io.spoke.vertx.protocol.fb.Push;
import io.spoke.vertx.protocol.fb.StreamCredit;
import io.spoke.vertx.serialization.Serializer;
import io.spoke.vertx.serialization.Serializers;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import java.nio.ByteBuffer;

/**
 * Writes frames (layout in {@link Frame}) into pooled buffers, reusing one FlatBufferBuilder. Not
 * thread-safe: one encoder per connection, used on its event loop.
 * <p>
 * Use: {@link #builder()} to build the body's strings, vectors and table, then one of the
 * {@code encode} methods, which adds the header and the payload. Serializers write the payload directly
 * into the frame's buffer; a caller's {@link Buffer} payload is copied into it once, or, from
 * {@link #ZERO_COPY_THRESHOLD} bytes up and where the link can send it in place (RDMA's registered memory),
 * attached by reference (the caller must then not change the buffer until the frame is written).
 */
public final class FrameEncoder {

  /** Payload buffers at least this large are sent by reference instead of being copied, where the link can. */
  public static final int ZERO_COPY_THRESHOLD = 32 * 1024;

  private final FlatBufferBuilder fbb = new FlatBufferBuilder(256);
  private final ByteBufAllocator alloc;
  private final java.util.function.Predicate<ByteBuf> attaches;
  /** Whether {@link #builder()} cleared the builder for the frame being encoded. */
  private boolean building;
  private int peerMaxFrameSize = ProtocolVersion.DEFAULT_MAX_FRAME_SIZE;

  /** An encoder that copies every payload into its frame, as a socket needs. */
  public FrameEncoder(ByteBufAllocator alloc) {
    this(alloc, payload -> false);
  }

  /**
   * @param attaches which payloads of at least {@link #ZERO_COPY_THRESHOLD} bytes may be attached by
   *                 reference rather than copied: registered memory for RDMA links, nothing for sockets
   */
  public FrameEncoder(ByteBufAllocator alloc, java.util.function.Predicate<ByteBuf> attaches) {
    this.alloc = alloc;
    this.attaches = attaches;
  }

  /** The largest frame the peer accepts, learnt in the handshake. */
  public void peerMaxFrameSize(int size) {
    this.peerMaxFrameSize = size;
  }

  public int peerMaxFrameSize() {
    return peerMaxFrameSize;
  }

  /** Clears and returns the builder for the next frame's body. */
  public FlatBufferBuilder builder() {
    fbb.clear();
    building = true;
    return fbb;
  }

  /** A frame of {@code message} (its body written here) followed by a copy of, or a reference to, {@code payload}. */
  public ByteBuf encode(long id, boolean reply, Message message, Buffer payload) {
    return encode(id, reply, message.bodyType(), message.writeBody(builder()), payload);
  }

  /** A frame of {@code message} followed by {@code value}, written by {@code serializer} into the frame's buffer. */
  public <T> ByteBuf encode(long id, boolean reply, Message message, Serializer<T> serializer, T value) {
    return encode(id, reply, message.bodyType(), message.writeBody(builder()), serializer, value);
  }

  /** An error reply: a code, a message and a remote class name, and {@code detail} (or {@code null}) describing it. */
  public ByteBuf encodeError(long id, short code, String message, String remoteClass, Message detail) {
    return detail == null
      ? encode(id, true, code, message, remoteClass, Body.NONE, 0)
      : encode(id, true, code, message, remoteClass, detail.bodyType(), detail.writeBody(builder()));
  }

  /**
   * A call of method {@code methodId} (one way, or a stream call with {@code streamId} and its first {@code credit})
   * followed by {@code request}: the per-call path, so the body is written here with no message object.
   */
  public <Q> ByteBuf encodeCall(long id, int methodId, boolean oneway, long streamId, int credit, Q request,
                                Serializer<Q> serializer) {
    int body = Call.createCall(builder(), methodId, oneway, streamId, credit);
    return serializer == Serializers.BUFFER
      ? encode(id, false, Body.Call, body, (Buffer) request)
      : encode(id, false, Body.Call, body, serializer, request);
  }

  /** A push to mailbox {@code mailbox} (or an item of stream {@code streamId}) carrying {@code data}. */
  public ByteBuf encodePush(int mailbox, long streamId, Buffer data) {
    return encode(0, false, Body.Push, Push.createPush(builder(), mailbox, streamId), data);
  }

  /** A push whose payload {@code serializer} writes into the frame's buffer. */
  public <T> ByteBuf encodePush(int mailbox, long streamId, Serializer<T> serializer, T value) {
    return encode(0, false, Body.Push, Push.createPush(builder(), mailbox, streamId), serializer, value);
  }

  /** A stream consumer's grant of {@code credit} more items of stream {@code streamId}, or its cancel. */
  public ByteBuf encodeStreamCredit(long streamId, int credit, boolean cancel) {
    return encode(0, false, Body.StreamCredit, StreamCredit.createStreamCredit(builder(), streamId, credit, cancel), null);
  }

  /** Header with no payload. */
  public ByteBuf encode(long id, boolean reply, short code, String message, String remoteClass, byte bodyType, int body) {
    int headerLength = finishHeader(id, reply, code, message, remoteClass, bodyType, body);
    ByteBuf buf = alloc.directBuffer(Frame.PREFIX_SIZE + headerLength);
    writeHeader(buf, headerLength);
    return fixLength(buf);
  }

  /** Header followed by a copy of (or, when large, a reference to) {@code payload}. */
  public ByteBuf encode(long id, boolean reply, byte bodyType, int body, Buffer payload) {
    int headerLength = finishHeader(id, reply, (short) 0, null, null, bodyType, body);
    int payloadLength = payload == null ? 0 : payload.length();
    checkSize(headerLength, payloadLength);
    // The payload's own buffer, not a view of it: a small payload is copied, and a view would cost an object per call.
    ByteBuf source = payloadLength == 0 ? null : Buffers.readable(payload);
    if (payloadLength >= ZERO_COPY_THRESHOLD && attaches.test(source)) {
      ByteBuf payloadBuf = ((BufferInternal) payload).getByteBuf();
      // Memory the link sends in place (an RDMA link's registered memory) lives as long as something references it:
      // attach, don't copy. See FrameLink.attaches.
      ByteBuf head = alloc.directBuffer(Frame.PREFIX_SIZE + headerLength);
      writeHeader(head, headerLength);
      head.setInt(0, 4 + headerLength + payloadLength);
      CompositeByteBuf composite = alloc.compositeDirectBuffer(2);
      composite.addComponent(true, head);
      composite.addComponent(true, payloadBuf);
      return composite;
    }
    ByteBuf buf = alloc.directBuffer(Frame.PREFIX_SIZE + headerLength + payloadLength);
    writeHeader(buf, headerLength);
    if (payloadLength > 0) {
      buf.writeBytes(source, source.readerIndex(), payloadLength);
    }
    return fixLength(buf);
  }

  /** Header followed by {@code value}, written by {@code serializer} straight into the frame's buffer. */
  public <T> ByteBuf encode(long id, boolean reply, byte bodyType, int body, Serializer<T> serializer, T value) {
    int headerLength = finishHeader(id, reply, (short) 0, null, null, bodyType, body);
    int hint = serializer.sizeHint(value);
    ByteBuf buf = alloc.directBuffer(Frame.PREFIX_SIZE + headerLength + Math.max(hint, 0));
    try {
      writeHeader(buf, headerLength);
      serializer.write(value, BufferInternal.buffer(buf));
      checkSize(headerLength, buf.writerIndex() - Frame.PREFIX_SIZE - headerLength);
      return fixLength(buf);
    } catch (RuntimeException e) {
      buf.release();
      throw e;
    }
  }

  private void checkSize(int headerLength, int payloadLength) {
    long size = (long) Frame.PREFIX_SIZE + headerLength + payloadLength;
    if (size > peerMaxFrameSize) {
      throw new FrameTooLargeException("message of " + size + " bytes exceeds the peer's maximum frame size of "
        + peerMaxFrameSize + " bytes; raise maxFrameSize on both sides, or send it in parts");
    }
  }

  private int finishHeader(long id, boolean reply, short code, String message, String remoteClass, byte bodyType, int body) {
    if (body == 0) {
      fbb.clear();
    } else if (!building) {
      throw new IllegalStateException("a frame body must be built on a builder from builder()");
    }
    building = false;
    int messageOffset = message == null ? 0 : fbb.createString(message);
    int remoteClassOffset = remoteClass == null ? 0 : fbb.createString(remoteClass);
    Header.startHeader(fbb);
    Header.addId(fbb, id);
    if (body != 0) {
      Header.addBody(fbb, body);
    }
    if (messageOffset != 0) {
      Header.addMessage(fbb, messageOffset);
    }
    if (remoteClassOffset != 0) {
      Header.addRemoteClass(fbb, remoteClassOffset);
    }
    Header.addCode(fbb, code);
    Header.addReply(fbb, reply);
    Header.addBodyType(fbb, bodyType);
    fbb.finish(Header.endHeader(fbb));
    return fbb.offset();
  }

  private void writeHeader(ByteBuf buf, int headerLength) {
    ByteBuffer header = fbb.dataBuffer();
    buf.writeInt(0);
    buf.writeInt(headerLength);
    buf.writeBytes(header);
  }

  private static ByteBuf fixLength(ByteBuf buf) {
    buf.setInt(0, buf.writerIndex() - 4);
    return buf;
  }
}
