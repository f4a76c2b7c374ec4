// SPDX-License-Identifier: Apache-2.0
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
  EXITED,
  /**
   * It died and its {@link RestartPolicy} starts it again in place (same node, GPUs, ports and id) after a back-off:
   * calls in flight failed with {@link io.spoke.vertx.ActorDeadException}; later calls wait for the new instance.
   * {@link ActorInfo#exitCode()} and {@link ActorInfo#reason()} say how the last instance ended.
   */
  RESTARTING
}
