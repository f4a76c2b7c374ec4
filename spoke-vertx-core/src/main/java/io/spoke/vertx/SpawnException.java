// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * An actor could not be started: its process exited or did not become ready in time, or its constructor
 * or start hook failed. The message carries the exit status and the last lines of the actor's log.
 */
public class SpawnException extends SpokeException {

  private static final long serialVersionUID = 1L;

  public SpawnException(String message) {
    super(message);
  }
}
