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

    Outcome(long calls, double seconds, Latencies latencies) {
      this.calls = calls;
      this.seconds = seconds;
      this.latencies = latencies;
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

  private static final class Driver {

    private final Supplier<Future<?>> call;
    private final int inFlight;
    private final long warmupEnd;
    private final long end;
    private final Promise<Outcome> promise;
    private final Latencies latencies = new Latencies();
    private long measuredStart;
    private long calls;
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
      for (int i = 0; i < inFlight; i++) {
        send();
      }
    }

    private void send() {
      long start = System.nanoTime();
      outstanding++;
      call.get().onComplete(ar -> {
        outstanding--;
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
          promise.tryComplete(new Outcome(calls, (now - measuredStart) / 1e9, latencies));
        }
      });
    }
  }
}
