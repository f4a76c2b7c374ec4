// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import io.vertx.core.Future;
import java.util.List;

/**
 * A managed process the client launched ({@link SpokeClient#spawnProcess}, {@link SpokeClient#launchProcess}): it is
 * ready when the handle is given. Its futures complete on the client's context.
 */
public interface ManagedProcess {

  /** Its id, unique in the cluster among actors and processes. */
  String id();

  /** Where it runs and how it was when it became ready: node, pid, log file, GPU ids, {@link ActorInfo#ports()}. */
  ActorInfo info();

  /** The ports reserved for it alone, in the order of {@code SPOKE_PORT_0}, {@code SPOKE_PORT_1}, ... */
  default List<Integer> ports() {
    return info().ports();
  }

  /**
   * Completes once it has exited, for whatever reason, with its last state: {@link ActorInfo#exitCode()} (128 + n when
   * killed by signal n) and {@link ActorInfo#reason()}. Fails only when the client closes first.
   */
  Future<ActorInfo> exit();

  /**
   * Stops it: its stop signal, then, after its grace period, SIGKILL for its whole tree. Completes with its last
   * state once it has exited (at once when it had already).
   */
  Future<ActorInfo> stop();
}
