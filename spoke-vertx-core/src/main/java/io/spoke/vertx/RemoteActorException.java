// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * The actor's method failed: it threw, or its {@code Future} failed. Carries the class name and message of
 * the exception on the actor's side.
 */
public final class RemoteActorException extends SpokeException {

  private static final long serialVersionUID = 1L;

  private final String remoteClass;
  private final String remoteMessage;

  public RemoteActorException(String remoteClass, String remoteMessage, String message) {
    super(message);
    this.remoteClass = remoteClass;
    this.remoteMessage = remoteMessage;
  }

  /** Fully qualified class name of the exception raised by the actor. */
  public String remoteClass() {
    return remoteClass;
  }

  /** Message of the exception raised by the actor, possibly {@code null}. */
  public String remoteMessage() {
    return remoteMessage;
  }
}
