// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import io.spoke.vertx.protocol.fb.StreamCredit;

/**
 * The body of a StreamCredit (more items a stream's consumer takes, or its cancel), read by the actor host: one
 * reused reader per receiver, so that reading it allocates nothing. Valid until the next {@link #read} or until
 * the frame is released; confined to the receiver's context.
 */
public final class StreamCreditView {

  private final StreamCredit table = new StreamCredit();

  /** Points this view at {@code frame}'s body, which must be a {@code StreamCredit}. */
  public StreamCreditView read(Frame frame) {
    frame.header().body(table);
    return this;
  }

  public long stream() {
    return table.stream();
  }

  public long credit() {
    return table.credit();
  }

  public boolean cancel() {
    return table.cancel();
  }
}
