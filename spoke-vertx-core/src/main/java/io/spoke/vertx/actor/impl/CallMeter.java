// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor.impl;

import io.spoke.vertx.protocol.ActorHostCodec.MethodCalls;

/**
 * One method's calls since its actor started: how many, how many failed, and their times in fixed buckets (from the
 * call's arrival to its reply; a stream's, to its end). Counted where the call completes, on the actor's event loop;
 * recording allocates nothing. Its agent reads a copy ({@link #snapshot}) when its metrics are scraped.
 */
final class CallMeter {

  /** The buckets' upper bounds, in nanoseconds: 1 µs to 10 s, then one bucket above. */
  static final long[] BOUNDS_NANOS = {
    1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000, 50_000_000, 100_000_000, 250_000_000, 500_000_000,
    1_000_000_000L, 2_500_000_000L, 5_000_000_000L, 10_000_000_000L};

  /** {@code -Dspoke.callMetrics=false} in an actor's JVM options: its calls are not timed or counted. */
  static final String PROPERTY = "spoke.callMetrics";

  private long calls;
  private long errors;
  private long sumNanos;
  private final long[] buckets = new long[BOUNDS_NANOS.length + 1];

  /** Whether this process's actor counts its calls. */
  static boolean enabled() {
    return !"false".equalsIgnoreCase(System.getProperty(PROPERTY));
  }

  void record(long nanos, boolean failed) {
    calls++;
    if (failed) {
      errors++;
    }
    sumNanos += nanos;
    int i = 0;
    while (i < BOUNDS_NANOS.length && nanos > BOUNDS_NANOS[i]) {
      i++;
    }
    buckets[i]++;
  }

  MethodCalls snapshot(int method, String name) {
    return new MethodCalls(method, name, calls, errors, sumNanos, buckets.clone());
  }
}
