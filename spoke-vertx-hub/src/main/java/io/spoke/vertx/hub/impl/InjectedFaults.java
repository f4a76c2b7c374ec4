// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import java.util.function.IntPredicate;

/**
 * A seam for tests of what a bug in a handler costs: a test makes the handlers throw, as a bug would, before they
 * handle messages of the types it picks. Empty in production, where it costs one read of a field per message.
 * Confined to the hub's event loop.
 */
final class InjectedFaults {

  private IntPredicate failing;

  /** From now on, handling a message whose type {@code failing} accepts throws, as a bug would; null: none. */
  void failWhen(IntPredicate failing) {
    this.failing = failing;
  }

  /** Throws the injected bug when message type {@code bodyType} is to fail. */
  void beforeHandling(int bodyType) {
    IntPredicate f = failing;
    if (f != null && f.test(bodyType)) {
      throw new IllegalStateException("a bug injected by a test, handling message type " + bodyType);
    }
  }
}
