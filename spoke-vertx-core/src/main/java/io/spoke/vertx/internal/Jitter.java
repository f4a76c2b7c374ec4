// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Spreads the delays that many processes would otherwise wait out in step: the restarts of instances that died
 * together (a node's, a gang's), and the reconnections of every agent and client of a hub that restarted.
 */
public final class Jitter {

  /** How far a delay is spread around its nominal value, either way. */
  public static final double SPREAD = 0.2;

  private Jitter() {
  }

  /** {@code delayMs} spread uniformly by {@link #SPREAD} either way (at least 1 ms). */
  public static long spread(long delayMs) {
    if (delayMs <= 1) {
      return Math.max(1, delayMs);
    }
    double factor = 1 + SPREAD * (2 * ThreadLocalRandom.current().nextDouble() - 1);
    return Math.max(1, Math.round(delayMs * factor));
  }
}
