// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * No gang allocation has this ticket id, or it was released.
 */
public final class TicketNotFoundException extends SpokeException {

  private static final long serialVersionUID = 1L;

  public TicketNotFoundException(String message) {
    super(message);
  }
}
