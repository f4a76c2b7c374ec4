// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.service;

import io.netty.buffer.ByteBuf;
import io.spoke.vertx.SerializationException;
import io.spoke.vertx.internal.Buffers;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Reads what {@link Wire} wrote, in place: {@code Buffer}, {@code ByteBuffer} and FlatBuffers values are
 * views of the payload, not copies. Every read is bounds-checked; a payload that does not match (a truncated
 * frame, or a client and an actor built from different versions of a service) fails with
 * {@link SerializationException}.
 */
public final class WireReader {

  private final ByteBuf in;
  private int index;
  private final int end;

  private WireReader(ByteBuf in) {
    this.in = in;
    this.index = in.readerIndex();
    this.end = in.writerIndex();
  }

  public static WireReader of(Buffer payload) {
    return new WireReader(Buffers.forRead(payload));
  }

  private int take(int n) {
    if (n < 0 || end - index < n) {
      throw new SerializationException("truncated payload: needed " + n + " more bytes at offset " + (index - in.readerIndex())
        + ", " + (end - index) + " left; do the client and the actor use the same version of the service?");
    }
    int at = index;
    index += n;
    return at;
  }

  public int readVarint() {
    int value = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      byte b = in.getByte(take(1));
      value |= (b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        return value;
      }
    }
    throw new SerializationException("malformed varint in payload");
  }

  /** -1 for {@code null}, else the length or size. */
  public int readNullableSize() {
    int n = readVarint() - 1;
    // Every element takes at least one byte, so a size larger than what is left is malformed: refuse it
    // before anything is allocated for it.
    if (n < -1 || n > end - index) {
      throw new SerializationException("malformed size " + n + " in payload (" + (end - index) + " bytes left)");
    }
    return n;
  }

  public boolean readPresent() {
    byte b = in.getByte(take(1));
    if (b != 0 && b != 1) {
      throw new SerializationException("malformed presence byte " + b + " in payload");
    }
    return b == 1;
  }

  public int readInt() {
    return in.getInt(take(4));
  }

  public long readLong() {
    return in.getLong(take(8));
  }

  public short readShort() {
    return in.getShort(take(2));
  }

  public byte readByte() {
    return in.getByte(take(1));
  }

  public char readChar() {
    return in.getChar(take(2));
  }

  public float readFloat() {
    return in.getFloat(take(4));
  }

  public double readDouble() {
    return in.getDouble(take(8));
  }

  public boolean readBoolean() {
    return in.getByte(take(1)) != 0;
  }

  public String readString() {
    int n = readNullableSize();
    if (n < 0) {
      return null;
    }
    return in.toString(take(n), n, StandardCharsets.UTF_8);
  }

  public byte[] readBytes() {
    int n = readNullableSize();
    if (n < 0) {
      return null;
    }
    byte[] bytes = new byte[n];
    in.getBytes(take(n), bytes);
    return bytes;
  }

  /** A view of the payload, valid as long as the payload is. */
  public Buffer readBuffer() {
    int n = readNullableSize();
    if (n < 0) {
      return null;
    }
    return BufferInternal.buffer(in.slice(take(n), n));
  }

  /** A read-only view of the payload, valid as long as the payload is. */
  public ByteBuffer readByteBuffer() {
    int n = readNullableSize();
    if (n < 0) {
      return null;
    }
    return in.nioBuffer(take(n), n).asReadOnlyBuffer();
  }

  /** A view of a FlatBuffer, for a generated {@code getRootAsX}. */
  public ByteBuffer readTableBytes() {
    int n = readNullableSize();
    if (n < 0) {
      return null;
    }
    return in.nioBuffer(take(n), n);
  }

  public JsonObject readJsonObject() {
    Buffer json = readBuffer();
    try {
      return json == null ? null : new JsonObject(json);
    } catch (RuntimeException e) {
      throw new SerializationException("malformed JSON object in payload: " + e.getMessage());
    }
  }

  public JsonArray readJsonArray() {
    Buffer json = readBuffer();
    try {
      return json == null ? null : new JsonArray(json);
    } catch (RuntimeException e) {
      throw new SerializationException("malformed JSON array in payload: " + e.getMessage());
    }
  }

  /** The constant of {@code type} named in the payload. */
  public <E extends Enum<E>> E readEnum(Class<E> type) {
    String name = readString();
    if (name == null) {
      return null;
    }
    try {
      return Enum.valueOf(type, name);
    } catch (IllegalArgumentException e) {
      throw new SerializationException(type.getName() + " has no constant " + name + ": do the client and the actor use the same"
        + " version of it?");
    }
  }

  /** Checks that the whole payload was read. */
  public void end() {
    if (index != end) {
      throw new SerializationException("payload has " + (end - index) + " unread bytes: do the client and the actor use the same"
        + " version of the service?");
    }
  }
}
