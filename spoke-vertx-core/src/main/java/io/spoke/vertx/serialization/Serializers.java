// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.serialization;

import com.google.flatbuffers.Table;
import io.spoke.vertx.SerializationException;
import io.spoke.vertx.internal.Buffers;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Function;

/**
 * Built-in {@link Serializer}s. Numbers are big-endian and fixed-size; strings are UTF-8 with no length
 * prefix (the payload's length is the string's); {@code null} is refused except by {@link #VOID}.
 */
public final class Serializers {

  private Serializers() {
  }

  /** No payload: writes nothing, reads {@code null}. For methods without arguments or result. */
  public static final Serializer<Void> VOID = new Serializer<>() {
    @Override
    public int sizeHint(Void value) {
      return 0;
    }

    @Override
    public void write(Void value, Buffer out) {
    }

    @Override
    public Void read(Buffer view) {
      return null;
    }
  };

  /** UTF-8 text. */
  public static final Serializer<String> STRING = new Serializer<>() {
    @Override
    public int sizeHint(String value) {
      return value == null ? 0 : value.length();
    }

    @Override
    public void write(String value, Buffer out) {
      Buffers.forWrite(out).writeCharSequence(notNull(value, "String"), StandardCharsets.UTF_8);
    }

    @Override
    public String read(Buffer view) {
      return view.toString(StandardCharsets.UTF_8);
    }
  };

  /** Raw bytes, copied on write and on read. */
  public static final Serializer<byte[]> BYTES = new Serializer<>() {
    @Override
    public int sizeHint(byte[] value) {
      return value == null ? 0 : value.length;
    }

    @Override
    public void write(byte[] value, Buffer out) {
      out.appendBytes(notNull(value, "byte[]"));
    }

    @Override
    public byte[] read(Buffer view) {
      return view.getBytes();
    }
  };

  /**
   * A Vert.x buffer: written with one copy into the frame, read as a slice of the received payload with no
   * copy at all.
   */
  public static final Serializer<Buffer> BUFFER = new Serializer<>() {
    @Override
    public int sizeHint(Buffer value) {
      return value == null ? 0 : value.length();
    }

    @Override
    public void write(Buffer value, Buffer out) {
      out.appendBuffer(notNull(value, "Buffer"));
    }

    @Override
    public Buffer read(Buffer view) {
      return view;
    }

    @Override
    public boolean readsView() {
      return true;
    }
  };

  /**
   * A NIO buffer: its remaining bytes are written (its position is left as it was); read as a read-only view
   * of the received payload, with no copy.
   */
  public static final Serializer<ByteBuffer> BYTE_BUFFER = new Serializer<>() {
    @Override
    public int sizeHint(ByteBuffer value) {
      return value == null ? 0 : value.remaining();
    }

    @Override
    public void write(ByteBuffer value, Buffer out) {
      Buffers.forWrite(out).writeBytes(notNull(value, "ByteBuffer").duplicate());
    }

    @Override
    public ByteBuffer read(Buffer view) {
      return Buffers.forRead(view).nioBuffer().asReadOnlyBuffer();
    }

    @Override
    public boolean readsView() {
      return true;
    }
  };

  public static final Serializer<Integer> INT = fixed(4, (v, out) -> out.appendInt(v), view -> view.getInt(0), "Integer");
  public static final Serializer<Long> LONG = fixed(8, (v, out) -> out.appendLong(v), view -> view.getLong(0), "Long");
  public static final Serializer<Double> DOUBLE = fixed(8, (v, out) -> out.appendDouble(v), view -> view.getDouble(0), "Double");
  public static final Serializer<Float> FLOAT = fixed(4, (v, out) -> out.appendFloat(v), view -> view.getFloat(0), "Float");
  public static final Serializer<Short> SHORT = fixed(2, (v, out) -> out.appendShort(v), view -> view.getShort(0), "Short");
  public static final Serializer<Byte> BYTE = fixed(1, (v, out) -> out.appendByte(v), view -> view.getByte(0), "Byte");
  public static final Serializer<Boolean> BOOLEAN = fixed(1, (v, out) -> out.appendByte(v ? (byte) 1 : (byte) 0),
    view -> view.getByte(0) != 0, "Boolean");
  public static final Serializer<Character> CHAR = fixed(2, (v, out) -> out.appendShort((short) v.charValue()),
    view -> (char) view.getShort(0), "Character");

  /** A JSON object as UTF-8 JSON text. */
  public static final Serializer<JsonObject> JSON_OBJECT = new Serializer<>() {
    @Override
    public void write(JsonObject value, Buffer out) {
      out.appendBuffer(notNull(value, "JsonObject").toBuffer());
    }

    @Override
    public JsonObject read(Buffer view) {
      try {
        return new JsonObject(view);
      } catch (RuntimeException e) {
        throw new SerializationException("payload is not a JSON object: " + e.getMessage());
      }
    }
  };

  /** A JSON array as UTF-8 JSON text. */
  public static final Serializer<JsonArray> JSON_ARRAY = new Serializer<>() {
    @Override
    public void write(JsonArray value, Buffer out) {
      out.appendBuffer(notNull(value, "JsonArray").toBuffer());
    }

    @Override
    public JsonArray read(Buffer view) {
      try {
        return new JsonArray(view);
      } catch (RuntimeException e) {
        throw new SerializationException("payload is not a JSON array: " + e.getMessage());
      }
    }
  };

  /**
   * A FlatBuffers table, read in place with no copy and no parsing.
   * <p>
   * Written values must be root tables whose {@code ByteBuffer} spans exactly the FlatBuffer from its
   * position to its limit, as {@code getRootAsX(builder.dataBuffer())} gives.
   *
   * @param rootAccessor the generated root accessor, e.g. {@code MyTable::getRootAsMyTable}
   */
  public static <T extends Table> Serializer<T> flatBuffer(Function<ByteBuffer, T> rootAccessor) {
    Objects.requireNonNull(rootAccessor, "rootAccessor");
    return new Serializer<>() {
      @Override
      public int sizeHint(T value) {
        return value == null ? 0 : value.getByteBuffer().remaining();
      }

      @Override
      public void write(T value, Buffer out) {
        Buffers.forWrite(out).writeBytes(notNull(value, "FlatBuffers table").getByteBuffer().duplicate());
      }

      @Override
      public T read(Buffer view) {
        if (view.length() < 4) {
          throw new SerializationException("payload of " + view.length() + " bytes is too short for a FlatBuffer");
        }
        try {
          return rootAccessor.apply(Buffers.forRead(view).nioBuffer());
        } catch (RuntimeException e) {
          throw new SerializationException("payload is not a valid FlatBuffer: " + e);
        }
      }

      @Override
      public boolean readsView() {
        return true;
      }
    };
  }

  /**
   * The serializer the actor runtime uses for a value a method returns, chosen by its runtime class:
   * {@code null} (no payload), String, byte[], Buffer, ByteBuffer, boxed primitives, JsonObject,
   * JsonArray and FlatBuffers tables.
   *
   * @throws SerializationException for any other class, naming it
   */
  @SuppressWarnings("unchecked")
  public static Serializer<Object> forValue(Object value) {
    Serializer<?> serializer;
    if (value == null) {
      serializer = VOID;
    } else if (value instanceof String) {
      serializer = STRING;
    } else if (value instanceof Buffer) {
      serializer = BUFFER;
    } else if (value instanceof byte[]) {
      serializer = BYTES;
    } else if (value instanceof ByteBuffer) {
      serializer = BYTE_BUFFER;
    } else if (value instanceof Integer) {
      serializer = INT;
    } else if (value instanceof Long) {
      serializer = LONG;
    } else if (value instanceof Double) {
      serializer = DOUBLE;
    } else if (value instanceof Float) {
      serializer = FLOAT;
    } else if (value instanceof Boolean) {
      serializer = BOOLEAN;
    } else if (value instanceof Short) {
      serializer = SHORT;
    } else if (value instanceof Byte) {
      serializer = BYTE;
    } else if (value instanceof Character) {
      serializer = CHAR;
    } else if (value instanceof JsonObject) {
      serializer = JSON_OBJECT;
    } else if (value instanceof JsonArray) {
      serializer = JSON_ARRAY;
    } else if (value instanceof Table) {
      serializer = TABLE;
    } else {
      throw new SerializationException("no serializer for a result of type " + value.getClass().getName()
        + ": return a String, byte[], Buffer, ByteBuffer, boxed primitive, JsonObject, JsonArray or FlatBuffers table,"
        + " or register the method with an explicit Serializer");
    }
    return (Serializer<Object>) serializer;
  }

  private static final Serializer<Table> TABLE = new Serializer<>() {
    @Override
    public void write(Table value, Buffer out) {
      Buffers.forWrite(out).writeBytes(value.getByteBuffer().duplicate());
    }

    @Override
    public Table read(Buffer view) {
      throw new SerializationException("a FlatBuffers table is read with Serializers.flatBuffer(MyTable::getRootAsMyTable)");
    }
  };

  private interface Writer<T> {
    void write(T value, Buffer out);
  }

  private static <T> Serializer<T> fixed(int size, Writer<T> writer, Function<Buffer, T> reader, String type) {
    return new Serializer<>() {
      @Override
      public int sizeHint(T value) {
        return size;
      }

      @Override
      public void write(T value, Buffer out) {
        writer.write(notNull(value, type), out);
      }

      @Override
      public T read(Buffer view) {
        if (view.length() != size) {
          throw new SerializationException("expected a " + type + " of " + size + " bytes, got a payload of " + view.length() + " bytes");
        }
        return reader.apply(view);
      }
    };
  }

  private static <T> T notNull(T value, String type) {
    if (value == null) {
      throw new SerializationException("cannot serialize a null " + type + " (only Serializers.VOID carries null)");
    }
    return value;
  }
}
