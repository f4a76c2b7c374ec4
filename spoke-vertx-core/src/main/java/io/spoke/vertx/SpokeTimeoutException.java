// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * A remote operation got no answer within its timeout. The operation may still complete on the remote side.
 */
public final class SpokeTimeoutException extends SpokeException {

  private static final long serialVersionUID = 1L;

  public SpokeTimeoutException(String message) {
    super(message);
  }
}
