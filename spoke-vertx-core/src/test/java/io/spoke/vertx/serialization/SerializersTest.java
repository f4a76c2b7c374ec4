// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.serialization;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.flatbuffers.FlatBufferBuilder;
import io.spoke.vertx.SerializationException;
import io.spoke.vertx.protocol.fb.Gpu;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

class SerializersTest {

  private static <T> T roundTrip(Serializer<T> serializer, T value) {
    Buffer out = Buffer.buffer();
    serializer.write(value, out);
    int hint = serializer.sizeHint(value);
    if (hint >= 0 && serializer != Serializers.STRING) {
      assertThat(out.length()).as("size hint of %s", value).isEqualTo(hint);
    }
    return serializer.read(out);
  }

  @Test
  void roundTripsEveryBuiltIn() {
    assertThat(roundTrip(Serializers.STRING, "héllo wörld ✓")).isEqualTo("héllo wörld ✓");
    assertThat(roundTrip(Serializers.STRING, "")).isEmpty();
    assertThat(roundTrip(Serializers.BYTES, new byte[] {1, 2, 3})).containsExactly(1, 2, 3);
    assertThat(roundTrip(Serializers.BUFFER, Buffer.buffer("buf"))).isEqualTo(Buffer.buffer("buf"));
    assertThat(roundTrip(Serializers.INT, -42)).isEqualTo(-42);
    assertThat(roundTrip(Serializers.LONG, Long.MIN_VALUE)).isEqualTo(Long.MIN_VALUE);
    assertThat(roundTrip(Serializers.DOUBLE, Math.PI)).isEqualTo(Math.PI);
    assertThat(roundTrip(Serializers.FLOAT, 1.5f)).isEqualTo(1.5f);
    assertThat(roundTrip(Serializers.SHORT, (short) -7)).isEqualTo((short) -7);
    assertThat(roundTrip(Serializers.BYTE, (byte) 200)).isEqualTo((byte) 200);
    assertThat(roundTrip(Serializers.BOOLEAN, true)).isTrue();
    assertThat(roundTrip(Serializers.CHAR, 'Ж')).isEqualTo('Ж');
    assertThat(roundTrip(Serializers.VOID, null)).isNull();
    assertThat(roundTrip(Serializers.JSON_OBJECT, new JsonObject().put("a", 1))).isEqualTo(new JsonObject().put("a", 1));
    assertThat(roundTrip(Serializers.JSON_ARRAY, new JsonArray().add("x"))).isEqualTo(new JsonArray().add("x"));
  }

  @Test
  void byteBuffersAreWrittenWithoutMovingThemAndReadAsViews() {
    ByteBuffer source = ByteBuffer.wrap(new byte[] {9, 8, 7, 6});
    source.position(1);
    Buffer out = Buffer.buffer();
    Serializers.BYTE_BUFFER.write(source, out);
    assertThat(source.position()).isEqualTo(1);
    assertThat(out.getBytes()).containsExactly(8, 7, 6);
    ByteBuffer view = Serializers.BYTE_BUFFER.read(out);
    assertThat(view.isReadOnly()).isTrue();
    assertThat(view.remaining()).isEqualTo(3);
    assertThat(Serializers.BYTE_BUFFER.readsView()).isTrue();
  }

  @Test
  void bufferReadsAreSlicesOfThePayload() {
    Buffer payload = Buffer.buffer("shared");
    Buffer read = Serializers.BUFFER.read(payload);
    payload.setByte(0, (byte) 'S');
    assertThat(read.toString()).isEqualTo("Shared");
    assertThat(Serializers.BUFFER.readsView()).isTrue();
    assertThat(Serializers.STRING.readsView()).isFalse();
  }

  @Test
  void flatBufferTablesAreReadInPlace() {
    FlatBufferBuilder b = new FlatBufferBuilder();
    b.finish(Gpu.createGpu(b, 3, b.createString("GPU-abc"), b.createString("H100"), 81559));
    Gpu gpu = Gpu.getRootAsGpu(b.dataBuffer());
    Serializer<Gpu> serializer = Serializers.flatBuffer(Gpu::getRootAsGpu);
    Gpu read = roundTrip(serializer, gpu);
    assertThat(read.index()).isEqualTo(3);
    assertThat(read.uuid()).isEqualTo("GPU-abc");
    assertThat(read.memoryMb()).isEqualTo(81559);
    assertThat(Serializers.forValue(gpu)).isNotNull();
  }

  @Test
  void refusesNullExceptForVoid() {
    assertThatThrownBy(() -> Serializers.STRING.write(null, Buffer.buffer()))
      .isInstanceOf(SerializationException.class).hasMessageContaining("null String");
    assertThatThrownBy(() -> Serializers.INT.write(null, Buffer.buffer())).isInstanceOf(SerializationException.class);
  }

  @Test
  void refusesPayloadsOfTheWrongSize() {
    assertThatThrownBy(() -> Serializers.LONG.read(Buffer.buffer(new byte[3])))
      .isInstanceOf(SerializationException.class)
      .hasMessage("expected a Long of 8 bytes, got a payload of 3 bytes");
    assertThatThrownBy(() -> Serializers.JSON_OBJECT.read(Buffer.buffer("not json")))
      .isInstanceOf(SerializationException.class);
    assertThatThrownBy(() -> Serializers.flatBuffer(Gpu::getRootAsGpu).read(Buffer.buffer(new byte[2])))
      .isInstanceOf(SerializationException.class);
  }

  @Test
  void choosesSerializersByRuntimeClass() {
    assertThat(Serializers.forValue("s")).isSameAs((Object) Serializers.STRING);
    assertThat(Serializers.forValue(1L)).isSameAs((Object) Serializers.LONG);
    assertThat(Serializers.forValue(null)).isSameAs((Object) Serializers.VOID);
    assertThat(Serializers.forValue(Buffer.buffer())).isSameAs((Object) Serializers.BUFFER);
    assertThatThrownBy(() -> Serializers.forValue(new Object()))
      .isInstanceOf(SerializationException.class)
      .hasMessageContaining("java.lang.Object")
      .hasMessageContaining("explicit Serializer");
  }
}
