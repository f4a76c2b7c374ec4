// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.SpokeException;
import io.spoke.vertx.SpokeTimeoutException;
import io.spoke.vertx.protocol.ErrorCodes;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.spoke.vertx.serialization.Serializer;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import java.util.ArrayDeque;

/**
 * A connection's requests waiting for their reply, by correlation id: each completes with its decoded reply, fails
 * with the peer's typed error, or fails with {@link SpokeTimeoutException} once past its deadline (checked every
 * {@link Connection#SWEEP_INTERVAL_MS} ms while any wait). Answered entries are kept for the next requests, so a
 * call allocates none in steady state. Confined to the connection's context.
 */
final class PendingRequests {

  /** Answered pending entries kept for reuse, per connection: more than the calls usually in flight. */
  private static final int MAX_FREE = 1024;

  private final Connection connection;
  private final ContextInternal context;
  private final PendingMap<Pending> pending = new PendingMap<>();
  /** Answered entries, for the next calls; at most {@link #MAX_FREE}. */
  private final ArrayDeque<Pending> free = new ArrayDeque<>();
  private long sweepTimer = -1;

  PendingRequests(Connection connection, ContextInternal context) {
    this.connection = connection;
    this.context = context;
  }

  /** Waits for the reply to request {@code id}, which {@code decoder} reads; {@code what} names it in timeouts. */
  <T> void add(long id, Promise<T> promise, ReplyDecoder<T> decoder, String what, long timeoutMs) {
    add(id, promise, decoder, what, timeoutMs, 0);
  }

  /** Waits for the reply to a call of {@code methodId}, read by {@code decoder} (a reply decoder or a serializer). */
  void add(long id, Promise<?> promise, Object decoder, String what, long timeoutMs, int methodId) {
    Pending p = free.poll();
    long deadline = deadline(timeoutMs);
    p = p == null ? new Pending(promise, decoder, what, deadline, methodId) : p.set(promise, decoder, what, deadline, methodId);
    pending.put(id, p);
    if (sweepTimer < 0) {
      sweepTimer = context.setTimer(Connection.SWEEP_INTERVAL_MS, this::sweep);
    }
  }

  /** Completes request {@code id} with {@code frame}, which is released; a reply to nothing waiting is dropped. */
  void complete(long id, Frame frame) {
    Pending p = pending.remove(id);
    if (p == null) {
      frame.release();
      return;
    }
    p.complete(frame);
    // Only now: completing ran the caller's callbacks, whose next call must not be given this entry.
    if (free.size() < MAX_FREE) {
      free.push(p.set(null, null, null, 0, 0));
    }
  }

  /** Fails request {@code id}, if it still waits. */
  void fail(long id, Throwable failure) {
    Pending p = pending.remove(id);
    if (p != null) {
      p.fail(failure);
    }
  }

  /** Pushes the deadline of request {@code id} to {@code timeoutMs} from now. */
  void extendDeadline(long id, long timeoutMs) {
    Pending p = pending.get(id);
    if (p != null) {
      p.deadline = deadline(timeoutMs);
    }
  }

  /** Fails every request still waiting. */
  void failAll(Throwable failure) {
    if (pending.isEmpty()) {
      return;
    }
    for (Pending p : pending.clear()) {
      p.fail(failure);
    }
  }

  int size() {
    return pending.size();
  }

  /** Stops checking deadlines: the connection closed. */
  void stopSweeping() {
    if (sweepTimer >= 0) {
      context.owner().cancelTimer(sweepTimer);
      sweepTimer = -1;
    }
  }

  private static long deadline(long timeoutMs) {
    return System.nanoTime() + timeoutMs * 1_000_000L;
  }

  private void sweep(long timerId) {
    sweepTimer = -1;
    if (pending.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    for (Pending p : pending.removeIf(p -> now - p.deadline >= 0)) {
      p.fail(new SpokeTimeoutException(p.describe(connection.peerName()) + " got no answer within its timeout"));
    }
    if (!pending.isEmpty() && !connection.isClosed()) {
      sweepTimer = context.setTimer(Connection.SWEEP_INTERVAL_MS, this::sweep);
    }
  }

  /** A request waiting for its reply. */
  private static final class Pending {

    Promise<Object> promise;
    Object decoder;
    String what;
    long deadline;
    int methodId;

    Pending(Promise<?> promise, Object decoder, String what, long deadline, int methodId) {
      set(promise, decoder, what, deadline, methodId);
    }

    @SuppressWarnings("unchecked")
    Pending set(Promise<?> promise, Object decoder, String what, long deadline, int methodId) {
      this.promise = (Promise<Object>) promise;
      this.decoder = decoder;
      this.what = what;
      this.deadline = deadline;
      this.methodId = methodId;
      return this;
    }

    String describe(String peer) {
      return what != null ? what + " (" + peer + ")" : "call of method " + methodId + " on " + peer;
    }

    @SuppressWarnings("unchecked")
    void complete(Frame frame) {
      Object value;
      try {
        short code = frame.header().code();
        if (code != ErrorCode.None) {
          fail(ErrorCodes.toException(frame));
          return;
        }
        if (decoder instanceof Serializer) {
          Serializer<Object> serializer = (Serializer<Object>) decoder;
          value = serializer.readsView() ? serializer.read(frame.copyPayload()) : serializer.read(frame.payload());
        } else {
          value = ((ReplyDecoder<Object>) decoder).decode(frame);
        }
      } catch (RuntimeException e) {
        fail(e instanceof SpokeException ? e : new ProtocolException("cannot read the reply to " + describe("peer") + ": " + e, e));
        return;
      } finally {
        frame.release();
      }
      promise.tryComplete(value);
    }

    void fail(Throwable failure) {
      promise.tryFail(failure);
    }
  }
}
