// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.rdma.impl;

import org.openucx.jucx.ucp.UcpTagMessage;

/**
 * A tagged receive, matched by probing rather than posted: with UCX 1.13, a posted receive that matches a
 * message already waiting completes at once without reporting the message's length to jucx, so the length
 * is taken from the probe instead, and each message lands in a segment of its exact size. Queued with
 * {@link UcxRuntime#receive}. Internal to the RDMA module: not API.
 */
public interface TaggedReceive {

  long tag();

  /**
   * The probe matched {@code message}; receive it (on the progress thread).
   *
   * @param message the probed message, taken off UCX's queue
   */
  void matched(UcpTagMessage message);
}
