// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor;

import io.spoke.vertx.serialization.Serializer;
import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;

/**
 * A zero-copy view of a request's payload, read in place from the buffer the bytes arrived in:
 * Spoke's {@code MessageView}.
 * <p>
 * The view, and anything read from it that refers to its memory ({@link #buffer()}, {@link #byteBuffer()},
 * values of serializers that {@linkplain Serializer#readsView() read views}), is valid until the method's
 * result is sent: when the handler returns, or when the future it returned completes. Copy what must live
 * longer ({@code buffer().copy()}).
 */
public interface MessageView {

  /** The id of the method being called. */
  int methodId();

  /** Payload size in bytes. */
  int length();

  /** The payload as a Vert.x buffer, without copying. */
  Buffer buffer();

  /** The payload as a read-only NIO buffer, without copying. */
  ByteBuffer byteBuffer();

  /** Decodes the payload with {@code serializer}. */
  <T> T read(Serializer<T> serializer);

  /** The payload decoded as UTF-8 text. */
  String readString();
}
