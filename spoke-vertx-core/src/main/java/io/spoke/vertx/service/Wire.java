// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.service;

import com.google.flatbuffers.Table;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.spoke.vertx.SerializationException;
import io.spoke.vertx.internal.Buffers;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Map;

/**
 * The compact binary encoding of {@link SpokeService} arguments and results, written straight into the
 * frame that goes to the socket; {@link WireReader} reads it back. Generated proxies and dispatchers call
 * these methods; nothing here uses reflection.
 * <ul>
 *   <li>Primitives: fixed size, big-endian ({@code boolean} one byte, {@code char} two).</li>
 *   <li>Boxed primitives and records: a presence byte (0 for {@code null}), then the value or the components
 *       in declaration order.</li>
 *   <li>Strings (UTF-8), {@code byte[]}, {@code Buffer}, {@code ByteBuffer}, FlatBuffers tables, JSON (as
 *       text): an unsigned LEB128 varint of {@code length + 1} ({@code 0} for {@code null}), then the bytes.</li>
 *   <li>Enums: their name, as a string.</li>
 *   <li>Lists, sets and maps: a varint of {@code size + 1} ({@code 0} for {@code null}), then the elements
 *       (keys and values alternating for maps).</li>
 * </ul>
 */
public final class Wire {

  private Wire() {
  }

  /** The buffer to write into: the frame's own. */
  public static ByteBuf out(Buffer buffer) {
    return Buffers.forWrite(buffer);
  }

  public static void writeVarint(ByteBuf out, int value) {
    while ((value & ~0x7f) != 0) {
      out.writeByte((value & 0x7f) | 0x80);
      value >>>= 7;
    }
    out.writeByte(value);
  }

  /** {@code null} as 0, a length or size {@code n} as {@code n + 1}. */
  public static void writeNullableSize(ByteBuf out, int size) {
    writeVarint(out, size + 1);
  }

  public static void writeNull(ByteBuf out) {
    writeVarint(out, 0);
  }

  public static void writePresent(ByteBuf out, boolean present) {
    out.writeByte(present ? 1 : 0);
  }

  public static void writeInt(ByteBuf out, int v) {
    out.writeInt(v);
  }

  public static void writeLong(ByteBuf out, long v) {
    out.writeLong(v);
  }

  public static void writeShort(ByteBuf out, short v) {
    out.writeShort(v);
  }

  public static void writeByte(ByteBuf out, byte v) {
    out.writeByte(v);
  }

  public static void writeChar(ByteBuf out, char v) {
    out.writeChar(v);
  }

  public static void writeFloat(ByteBuf out, float v) {
    out.writeFloat(v);
  }

  public static void writeDouble(ByteBuf out, double v) {
    out.writeDouble(v);
  }

  public static void writeBoolean(ByteBuf out, boolean v) {
    out.writeBoolean(v);
  }

  public static void writeString(ByteBuf out, String s) {
    if (s == null) {
      writeNull(out);
      return;
    }
    writeNullableSize(out, ByteBufUtil.utf8Bytes(s));
    out.writeCharSequence(s, StandardCharsets.UTF_8);
  }

  public static void writeBytes(ByteBuf out, byte[] bytes) {
    if (bytes == null) {
      writeNull(out);
      return;
    }
    writeNullableSize(out, bytes.length);
    out.writeBytes(bytes);
  }

  public static void writeBuffer(ByteBuf out, Buffer buffer) {
    if (buffer == null) {
      writeNull(out);
      return;
    }
    writeNullableSize(out, buffer.length());
    out.writeBytes(Buffers.forRead(buffer));
  }

  /** Writes the remaining bytes; the buffer's position does not move. */
  public static void writeByteBuffer(ByteBuf out, ByteBuffer buffer) {
    if (buffer == null) {
      writeNull(out);
      return;
    }
    writeNullableSize(out, buffer.remaining());
    out.writeBytes(buffer.duplicate());
  }

  /** A root table: the bytes of its FlatBuffer, from its buffer's position to its limit. */
  public static void writeTable(ByteBuf out, Table table) {
    writeByteBuffer(out, table == null ? null : table.getByteBuffer());
  }

  public static void writeJsonObject(ByteBuf out, JsonObject json) {
    writeBuffer(out, json == null ? null : json.toBuffer());
  }

  public static void writeJsonArray(ByteBuf out, JsonArray json) {
    writeBuffer(out, json == null ? null : json.toBuffer());
  }

  public static void writeEnum(ByteBuf out, Enum<?> value) {
    writeString(out, value == null ? null : value.name());
  }

  /** The size of a collection (or {@code null}); the elements follow. */
  public static void writeSize(ByteBuf out, Collection<?> collection) {
    if (collection == null) {
      writeNull(out);
    } else {
      writeNullableSize(out, collection.size());
    }
  }

  /** The size of a map (or {@code null}); keys and values follow. */
  public static void writeSize(ByteBuf out, Map<?, ?> map) {
    if (map == null) {
      writeNull(out);
    } else {
      writeNullableSize(out, map.size());
    }
  }

  static SerializationException nullPrimitive(String what) {
    return new SerializationException("null " + what);
  }
}
