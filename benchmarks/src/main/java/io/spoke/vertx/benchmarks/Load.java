// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.function.Supplier;

/**
 * Drives calls from one event loop: {@code inFlight} outstanding at all times, each sent as soon as one
 * completes, for a warm-up and then a measured duration. The same driver measures Spoke and its baselines.
 */
final class Load {

  /** What a run measured. */
  static final class Outcome {

    final long calls;
    final double seconds;
    final Latencies latencies;
    /** Bytes the driving thread allocated per completed call, over the whole run (-1: unknown). */
    final double allocatedPerCall;

    Outcome(long calls, double seconds, Latencies latencies) {
      this(calls, seconds, latencies, -1);
    }

    Outcome(long calls, double seconds, Latencies latencies, double allocatedPerCall) {
      this.calls = calls;
      this.seconds = seconds;
      this.latencies = latencies;
      this.allocatedPerCall = allocatedPerCall;
    }

    double perSecond() {
      return calls / seconds;
    }
  }

  private Load() {
  }

  /**
   * @param call sends one call; runs on {@code context}
   */
  static Future<Outcome> run(Context context, Supplier<Future<?>> call, int inFlight, long warmupMs, long durationMs) {
    Promise<Outcome> promise = Promise.promise();
    context.runOnContext(v -> new Driver(call, inFlight, warmupMs, durationMs, promise).start());
    return promise.future();
  }

  /** Bytes allocated so far by the current thread (HotSpot's ThreadMXBean), or -1. */
  static long allocated() {
    java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
    if (threads instanceof com.sun.management.ThreadMXBean) {
      return ((com.sun.management.ThreadMXBean) threads).getThreadAllocatedBytes(Thread.currentThread().getId());
    }
    return -1;
  }

  private static final class Driver {

    private final Supplier<Future<?>> call;
    private final int inFlight;
    private final long warmupEnd;
    private final long end;
    private final Promise<Outcome> promise;
    private final Latencies latencies = new Latencies();
    private long measuredStart;
    private long calls;
    private long completed;
    private long allocatedAtStart;
    private int outstanding;
    private boolean done;

    Driver(Supplier<Future<?>> call, int inFlight, long warmupMs, long durationMs, Promise<Outcome> promise) {
      this.call = call;
      this.inFlight = inFlight;
      long now = System.nanoTime();
      this.warmupEnd = now + warmupMs * 1_000_000L;
      this.end = warmupEnd + durationMs * 1_000_000L;
      this.promise = promise;
    }

    void start() {
      allocatedAtStart = allocated();
      for (int i = 0; i < inFlight; i++) {
        send();
      }
    }

    private void send() {
      long start = System.nanoTime();
      outstanding++;
      call.get().onComplete(ar -> {
        outstanding--;
        completed++;
        long now = System.nanoTime();
        if (ar.failed()) {
          done = true;
          promise.tryFail(ar.cause());
          return;
        }
        if (start >= warmupEnd) {
          if (measuredStart == 0) {
            measuredStart = start;
          }
          calls++;
          latencies.record(now - start);
        }
        if (now < end) {
          send();
        } else if (!done && outstanding == 0) {
          done = true;
          long bytes = allocated() - allocatedAtStart;
          promise.tryComplete(new Outcome(calls, (now - measuredStart) / 1e9, latencies,
            allocatedAtStart < 0 || completed == 0 ? -1 : (double) bytes / completed));
        }
      });
    }
  }
}
