// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import io.spoke.vertx.protocol.fb.Push;

/**
 * The body of a Push (a mailbox message or a stream item), read by the client once per item: one reused reader per
 * receiver, so that reading it allocates nothing. Valid until the next {@link #read} or until the frame is
 * released; confined to the receiver's context.
 */
public final class PushView {

  private final Push table = new Push();

  /** Points this view at {@code frame}'s body, which must be a {@code Push}. */
  public PushView read(Frame frame) {
    frame.header().body(table);
    return this;
  }

  public int mailbox() {
    return table.mailbox();
  }

  public long stream() {
    return table.stream();
  }
}
