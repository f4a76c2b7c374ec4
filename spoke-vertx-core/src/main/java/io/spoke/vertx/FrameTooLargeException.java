// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * A message is larger than the receiver's maximum frame size. When the sender notices (it learns the
 * receiver's limit in the handshake) nothing is sent; when the receiver notices, it closes the connection
 * before allocating anything for the frame. Raise {@code maxFrameSize} on both sides to send more.
 */
public final class FrameTooLargeException extends ProtocolException {

  private static final long serialVersionUID = 1L;

  public FrameTooLargeException(String message) {
    super(message);
  }
}
