// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.it;

import io.spoke.vertx.client.SpokeClient;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * Keeps {@code depth} calls to one actor in flight, each issued as soon as one completes, so that a transfer is
 * under way at any moment; stops issuing at the first failure, or when {@link #stop()} is called. A reply that
 * {@code replyOk} refuses counts as a failure.
 */
final class RdmaLoad {

  private final SpokeClient client;
  private final String actorId;
  private final int methodId;
  private final Buffer request;
  private final Predicate<Buffer> replyOk;
  private final int depth;
  private final AtomicInteger outstanding = new AtomicInteger();
  private final AtomicLong completed = new AtomicLong();
  private final List<Throwable> failures = new CopyOnWriteArrayList<>();
  private final Promise<Void> settled = Promise.promise();
  private volatile boolean stopped;
  private volatile long lastSettledNanos;

  RdmaLoad(SpokeClient client, String actorId, int methodId, Buffer request, Predicate<Buffer> replyOk, int depth) {
    this.client = client;
    this.actorId = actorId;
    this.methodId = methodId;
    this.request = request;
    this.replyOk = replyOk;
    this.depth = depth;
  }

  /** Echoes of {@code size} bytes: the bulk goes both ways. */
  static RdmaLoad echo(SpokeClient client, String actorId, int size, int depth) {
    return new RdmaLoad(client, actorId, RdmaTestActor.ECHO, Buffer.buffer(new byte[size]), reply -> reply.length() == size, depth);
  }

  /** Requests of {@code size} bytes answered by their length: the bulk goes to the actor. */
  static RdmaLoad toActor(SpokeClient client, String actorId, int size, int depth) {
    return new RdmaLoad(client, actorId, RdmaTestActor.LENGTH, Buffer.buffer(new byte[size]),
      reply -> reply.length() == 4 && reply.getInt(0) == size, depth);
  }

  /** Replies of {@code size} bytes to four-byte requests: the bulk comes from the actor. */
  static RdmaLoad fromActor(SpokeClient client, String actorId, int size, int depth) {
    return new RdmaLoad(client, actorId, RdmaTestActor.FILL, Buffer.buffer().appendInt(size), reply -> reply.length() == size, depth);
  }

  RdmaLoad start() {
    for (int i = 0; i < depth; i++) {
      issue();
    }
    return this;
  }

  private void issue() {
    if (stopped) {
      if (outstanding.get() == 0) {
        settled.tryComplete();
      }
      return;
    }
    outstanding.incrementAndGet();
    client.call(actorId, methodId, request).onComplete(ar -> {
      if (ar.failed()) {
        failures.add(ar.cause());
        stopped = true;
      } else if (!replyOk.test(ar.result())) {
        failures.add(new AssertionError("unexpected reply of " + ar.result().length() + " bytes from " + actorId));
        stopped = true;
      } else {
        completed.incrementAndGet();
      }
      lastSettledNanos = System.nanoTime();
      int left = outstanding.decrementAndGet();
      if (!stopped) {
        issue();
      } else if (left == 0) {
        settled.tryComplete();
      }
    });
  }

  /** Stops issuing calls; completes once every call issued has completed. */
  Future<Void> stop() {
    stopped = true;
    if (outstanding.get() == 0) {
      settled.tryComplete();
    }
    return settled.future();
  }

  /** Completes once the load stopped (a failure, or {@link #stop()}) and every call it issued completed. */
  Future<Void> settled() {
    return settled.future();
  }

  long completed() {
    return completed.get();
  }

  List<Throwable> failures() {
    return failures;
  }

  /** {@link System#nanoTime()} when the last call so far completed. */
  long lastSettledNanos() {
    return lastSettledNanos;
  }
}
