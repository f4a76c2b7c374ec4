// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * Root of every failure Spoke reports: an asynchronous operation that fails completes its {@code Future}
 * with a subclass of this unchecked exception, one subclass per meaning.
 * <p>
 * These are expected failures (an actor that died, a method that does not exist, a cluster that is full):
 * they carry no stack trace unless they wrap a cause, because the trace of the thread that noticed the
 * failure says nothing about where it was caused. The message is written for a person and says what to do.
 * <p>
 * Each subclass maps one-to-one onto a wire-level error code
 * ({@link io.spoke.vertx.protocol.ErrorCodes}), so a failure raised in the hub, an agent or an actor host
 * reaches the caller as the same type.
 */
public class SpokeException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public SpokeException(String message) {
    super(message, null, false, false);
  }

  public SpokeException(String message, Throwable cause) {
    super(message, cause, false, cause != null);
  }
}
