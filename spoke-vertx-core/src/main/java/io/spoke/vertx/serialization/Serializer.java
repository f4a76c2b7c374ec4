// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.serialization;

import io.vertx.core.buffer.Buffer;

/**
 * Turns values into payload bytes and back: Spoke's {@code PackedSize}/{@code PackTo}/{@code UnpackFrom}.
 * <p>
 * {@link #write} appends straight to the buffer that goes to the socket, so a value is encoded once, with
 * no intermediate array. {@link #read} gets a zero-copy view of the received payload; a serializer that
 * returns an object referring to the view's memory (a slice, a {@code ByteBuffer}, a FlatBuffers table)
 * says so with {@link #readsView()}, and the runtime then keeps that memory valid for as long as the value
 * may be used: on an actor, until the method's result completes; on a client, by reading the reply from a
 * heap copy instead of the pooled receive buffer.
 * <p>
 * Implementations must be stateless or thread-safe: one instance serves every call. Built-ins are in
 * {@link Serializers}.
 *
 * @param <T> the type of value
 */
public interface Serializer<T> {

  /**
   * Bytes {@link #write} is about to append for {@code value}, or -1 when unknown; used to size the frame
   * buffer once. A wrong hint costs a buffer resize, never correctness.
   */
  default int sizeHint(T value) {
    return -1;
  }

  /**
   * Appends the encoding of {@code value} to {@code out}.
   *
   * @throws io.spoke.vertx.SerializationException when the value cannot be encoded
   */
  void write(T value, Buffer out);

  /**
   * Decodes a value from {@code view}, the whole payload of one message.
   *
   * @throws io.spoke.vertx.SerializationException when the payload is not a valid encoding
   */
  T read(Buffer view);

  /** Whether {@link #read} returns values that refer to the view's memory rather than copies. */
  default boolean readsView() {
    return false;
  }
}
