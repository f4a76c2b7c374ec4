package io.spoke.vertx.client;

/** Life cycle of an actor. */
public enum ActorState {
  /** Its process is starting; it cannot be called yet. */
  STARTING,
  /** Constructed and listening: callable. */
  RUNNING,
  /** A stop was requested; calls may still complete. */
  STOPPING,
  /** Its process is gone; see {@link ActorInfo#exitCode()} and {@link ActorInfo#reason()}. */
  EXITED
}
