// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import io.spoke.vertx.protocol.fb.Call;

/**
 * The body of a Call (a method invocation), read by the actor host once per call: one reused reader per receiver,
 * so that reading it allocates nothing. Valid until the next {@link #read} or until the frame is released;
 * confined to the receiver's context.
 */
public final class CallView {

  private final Call table = new Call();

  /** Points this view at {@code frame}'s body, which must be a {@code Call}. */
  public CallView read(Frame frame) {
    frame.header().body(table);
    return this;
  }

  public int method() {
    return table.method();
  }

  public boolean oneway() {
    return table.oneway();
  }

  public long stream() {
    return table.stream();
  }

  public long credit() {
    return table.credit();
  }
}
