// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * No actor with this id is known to the hub, or the connection reached a host that does not run it.
 */
public final class ActorNotFoundException extends SpokeException {

  private static final long serialVersionUID = 1L;

  public ActorNotFoundException(String message) {
    super(message);
  }
}
