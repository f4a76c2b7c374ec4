// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.service;

import io.netty.buffer.ByteBuf;
import io.spoke.vertx.serialization.Serializer;
import io.spoke.vertx.internal.Buffers;
import io.vertx.core.buffer.Buffer;

/**
 * The arguments of a call, written with {@link Wire} straight into the frame: what generated proxies pass to
 * {@code SpokeClient.call} with {@link #SERIALIZER}.
 */
@FunctionalInterface
public interface Payload {

  void writeTo(ByteBuf out);

  /** Writes a {@link Payload}; it is never read back (the actor reads the bytes with a {@link WireReader}). */
  Serializer<Payload> SERIALIZER = new Serializer<>() {
    @Override
    public void write(Payload value, Buffer out) {
      value.writeTo(Buffers.forWrite(out));
    }

    @Override
    public Payload read(Buffer view) {
      throw new UnsupportedOperationException("a Payload is only written");
    }
  };
}
