// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import com.google.flatbuffers.FlatBufferBuilder;
import java.util.Objects;

/**
 * The body of a control message to send: its union type ({@link io.spoke.vertx.protocol.fb.Body}) and how to
 * write it into the frame's builder. Codecs in this package make them ({@code HubClientCodec.ticketList(...)}), so
 * that role classes speak values and never touch a FlatBuffers builder or table; the connection writes the body
 * into its one reused builder when it encodes the frame.
 *
 * <p>Not for the per-call path: calls, pushes and stream credits have allocation-free encoders of their own
 * ({@link FrameEncoder}).
 */
public final class Message {

  /** No body: the answer to a request that returns nothing (a stop, a release, an actor host's ready). */
  public static final Message NONE = new Message(io.spoke.vertx.protocol.fb.Body.NONE, b -> 0);

  /** Writes a body into {@code b} and returns its offset. */
  @FunctionalInterface
  public interface BodyWriter {
    int write(FlatBufferBuilder b);
  }

  private final byte bodyType;
  private final BodyWriter writer;

  private Message(byte bodyType, BodyWriter writer) {
    this.bodyType = bodyType;
    this.writer = writer;
  }

  /** A message of union type {@code bodyType} whose body {@code writer} writes. */
  public static Message of(byte bodyType, BodyWriter writer) {
    return new Message(bodyType, Objects.requireNonNull(writer, "writer"));
  }

  public byte bodyType() {
    return bodyType;
  }

  /** Writes the body into {@code b}, a builder from {@link FrameEncoder#builder()}; returns its offset. */
  int writeBody(FlatBufferBuilder b) {
    return writer.write(b);
  }

  @Override
  public String toString() {
    return "Message[" + io.spoke.vertx.protocol.fb.Body.name(bodyType) + "]";
  }
}
