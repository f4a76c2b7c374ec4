// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * A UCX operation failed (peer gone, endpoint error, cancelled request): {@link #status()} is the UCX
 * status code ({@code ucs_status_t}, negative for errors) and {@link #statusName()} its UCX name, such as
 * {@code UCS_ERR_CONNECTION_RESET}.
 */
public final class RdmaException extends SpokeException {

  private static final long serialVersionUID = 1L;

  private final int status;
  private final String statusName;

  public RdmaException(int status, String statusName, String message) {
    super(message);
    this.status = status;
    this.statusName = statusName;
  }

  /** The UCX status code; 0 when the failure did not come from UCX itself (an endpoint closed locally). */
  public int status() {
    return status;
  }

  /** The UCX name of {@link #status()}. */
  public String statusName() {
    return statusName;
  }
}
