// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor.impl;

import io.spoke.vertx.actor.MessageView;
import io.spoke.vertx.internal.Buffers;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.serialization.Serializer;
import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

final class MessageViewImpl implements MessageView {

  private final Frame frame;
  private final int methodId;
  private Buffer buffer;

  MessageViewImpl(Frame frame, int methodId) {
    this.frame = frame;
    this.methodId = methodId;
  }

  @Override
  public int methodId() {
    return methodId;
  }

  @Override
  public int length() {
    return frame.payloadLength();
  }

  @Override
  public Buffer buffer() {
    if (buffer == null) {
      buffer = frame.payload();
    }
    return buffer;
  }

  @Override
  public ByteBuffer byteBuffer() {
    return frame.payloadByteBuf().nioBuffer().asReadOnlyBuffer();
  }

  @Override
  public <T> T read(Serializer<T> serializer) {
    return serializer.read(buffer());
  }

  @Override
  public String readString() {
    return Buffers.forRead(buffer()).toString(StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "MessageView[method=" + methodId + ", length=" + length() + "]";
  }
}
