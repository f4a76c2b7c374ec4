// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.etcd.jetcd.ByteSequence;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.spoke.vertx.UnavailableException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/**
 * jetcd's futures brought back to the hub's context, each with a deadline: jetcd completes them on its own threads
 * (so nothing of the hub runs there, and nothing blocks them), and a call to an etcd without quorum would otherwise
 * wait for as long as gRPC retries.
 */
final class EtcdCalls {

  private final Context context;
  private final String endpoints;
  private final long timeoutMs;
  private final Timer succeeded;
  private final Timer failed;

  EtcdCalls(Context context, String endpoints, long timeoutMs, MeterRegistry meters) {
    this.context = context;
    this.endpoints = endpoints;
    this.timeoutMs = timeoutMs;
    this.succeeded = Timer.builder("spoke_hub_etcd_requests").description("Requests of this hub to etcd, by outcome (failed: an error or no "
      + "answer by the deadline)").tag("outcome", "ok").register(meters);
    this.failed = Timer.builder("spoke_hub_etcd_requests").description("Requests of this hub to etcd, by outcome (failed: an error or no "
      + "answer by the deadline)").tag("outcome", "failed").register(meters);
  }

  static ByteSequence bytes(String text) {
    return ByteSequence.from(text, StandardCharsets.UTF_8);
  }

  /** {@code call}'s outcome on the hub's context, or an {@link UnavailableException} after the deadline. */
  <T> Future<T> call(CompletableFuture<T> call, String what) {
    Promise<T> done = Promise.promise();
    long started = System.nanoTime();
    done.future().onComplete(ar -> (ar.succeeded() ? succeeded : failed).record(System.nanoTime() - started, TimeUnit.NANOSECONDS));
    long timer = context.owner().setTimer(timeoutMs, t -> {
      if (done.tryFail(new UnavailableException("etcd (" + endpoints + ") did not answer " + what + " within " + timeoutMs
        + " ms: are its members running, and do a majority of them reach each other?"))) {
        call.cancel(false);
      }
    });
    call.whenComplete((value, err) -> context.runOnContext(v -> {
      context.owner().cancelTimer(timer);
      if (err == null) {
        done.tryComplete(value);
      } else {
        Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        done.tryFail(new UnavailableException("etcd (" + endpoints + ") failed " + what + ": " + cause.getMessage(), cause));
      }
    }));
    return done.future();
  }

  /** The hub's Vert.x, for timers. */
  Vertx vertx() {
    return context.owner();
  }

  long timeoutMs() {
    return timeoutMs;
  }
}
