// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * No actor class is registered under the requested type name; the message lists the known types.
 * Register an actor with {@code @SpokeActor} and a {@code META-INF/services/io.spoke.vertx.actor.Actor}
 * entry, or name its fully qualified class.
 */
public final class ActorTypeNotFoundException extends SpawnException {

  private static final long serialVersionUID = 1L;

  public ActorTypeNotFoundException(String message) {
    super(message);
  }
}
