// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * The actor's process is gone: stopped, crashed, killed, or lost with its node. Calls that were in flight
 * fail with this exception as soon as the loss is seen.
 */
public final class ActorDeadException extends SpokeException {

  private static final long serialVersionUID = 1L;

  private final String actorId;
  private final int exitCode;
  private final String logFile;

  public ActorDeadException(String actorId, int exitCode, String logFile, String message) {
    super(message);
    this.actorId = actorId;
    this.exitCode = exitCode;
    this.logFile = logFile;
  }

  /** The id of the dead actor. */
  public String actorId() {
    return actorId;
  }

  /** The exit status of its process (128 + n when killed by signal n), or -1 when not known. */
  public int exitCode() {
    return exitCode;
  }

  /** The path of the actor's log file on its node, or {@code null} when not known. */
  public String logFile() {
    return logFile;
  }
}
