// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * A peer (hub, agent or actor host) could not be reached, or the connection to it was lost before the
 * answer came.
 */
public final class UnavailableException extends SpokeException {

  private static final long serialVersionUID = 1L;

  public UnavailableException(String message) {
    super(message);
  }

  public UnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
