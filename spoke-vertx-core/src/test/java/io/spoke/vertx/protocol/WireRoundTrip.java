// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A message through the real {@link FrameEncoder} and {@link FrameDecoder}, on buffers, as the other side reads it:
 * the codec tests' wire. The frames it hands out are released after each test.
 */
final class WireRoundTrip implements AfterEachCallback {

  private final FrameEncoder encoder = new FrameEncoder(ByteBufAllocator.DEFAULT);
  private final EmbeddedChannel channel = new EmbeddedChannel(new FrameDecoder(1024 * 1024));
  private final List<Frame> frames = new ArrayList<>();

  /** {@code message} (with {@code payload}, or null) sent as frame {@code id}, a reply or not, and read back. */
  Frame send(long id, boolean reply, Message message, Buffer payload) {
    channel.writeInbound(encoder.encode(id, reply, message, payload));
    Object read = channel.readInbound();
    assertThat(read).isInstanceOf(Frame.class);
    Frame frame = (Frame) read;
    frames.add(frame);
    assertThat(frame.id()).isEqualTo(id);
    assertThat(frame.isReply()).isEqualTo(reply);
    assertThat(frame.bodyType()).isEqualTo(message.bodyType());
    return frame;
  }

  /** Releases {@code frame} now (to show that what was read from it outlives it) instead of after the test. */
  void release(Frame frame) {
    frames.remove(frame);
    frame.release();
  }

  @Override
  public void afterEach(ExtensionContext context) {
    frames.forEach(Frame::release);
    frames.clear();
    channel.finishAndReleaseAll();
  }
}
