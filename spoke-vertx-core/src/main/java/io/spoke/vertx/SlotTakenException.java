// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * The rank of the ticket already runs an actor; a rank can be launched again once its actor has exited.
 */
public final class SlotTakenException extends SpokeException {

  private static final long serialVersionUID = 1L;

  public SlotTakenException(String message) {
    super(message);
  }
}
