// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * An actor with this id is already running or starting. Ids become free again as soon as their actor is
 * stopped or dead.
 */
public final class DuplicateActorException extends SpokeException {

  private static final long serialVersionUID = 1L;

  public DuplicateActorException(String message) {
    super(message);
  }
}
