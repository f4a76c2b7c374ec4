// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal;

import io.vertx.core.Handler;
import io.vertx.core.streams.ReadStream;
import java.util.ArrayDeque;

/**
 * A {@link ReadStream} fed by its owner ({@link #offer}, {@link #finish}, {@link #failWith}), delivering to
 * its handler as fast as the demand allows ({@code pause}, {@code resume}, {@code fetch}) and queueing the
 * rest. Confined to one event loop: every method must be called on it. Internal.
 */
public abstract class QueuedReadStream<T> implements ReadStream<T> {

  private final ArrayDeque<T> queue = new ArrayDeque<>();
  private Handler<T> handler;
  private Handler<Void> endHandler;
  private Handler<Throwable> exceptionHandler;
  private long demand = Long.MAX_VALUE;
  private boolean ended;
  private Throwable failure;
  private boolean terminated;
  private boolean delivering;

  /** Called after each item is handed to the handler. */
  protected void consumed() {
  }

  /** Called when demand becomes positive again while the queue is empty: the producer may go on. */
  protected void demanded() {
  }

  /** Called when the consumer removes its handler before the end: it wants nothing more. */
  protected void cancelled() {
  }

  /** Items waiting for demand. */
  protected int queued() {
    return queue.size();
  }

  protected boolean hasDemand() {
    return demand > 0 && handler != null;
  }

  /** Adds an item; delivered now if there is demand. Items after the end are dropped. */
  protected void offer(T item) {
    if (ended || terminated) {
      return;
    }
    queue.add(item);
    drain();
  }

  /** Ends the stream once the queued items are delivered. */
  protected void finish() {
    if (ended) {
      return;
    }
    ended = true;
    drain();
  }

  /**
   * Fails the stream once the queued items are delivered: what was produced before the failure is not lost
   * (the tokens an LLM generated before it failed, say), and the failure comes last, as the end would.
   */
  protected void failWith(Throwable cause) {
    if (terminated || failure != null) {
      return;
    }
    ended = true;
    failure = cause;
    drain();
  }

  private void drain() {
    if (delivering) {
      return;
    }
    delivering = true;
    try {
      while (demand > 0 && handler != null && !queue.isEmpty()) {
        T item = queue.poll();
        if (demand != Long.MAX_VALUE) {
          demand--;
        }
        handler.handle(item);
        consumed();
      }
      if (ended && queue.isEmpty() && !terminated) {
        if (failure != null) {
          if (exceptionHandler != null) {
            terminated = true;
            exceptionHandler.handle(failure);
          }
        } else if (endHandler != null || handler != null) {
          terminated = true;
          if (endHandler != null) {
            endHandler.handle(null);
          }
        }
      }
    } finally {
      delivering = false;
    }
    if (!ended && queue.isEmpty() && demand > 0 && handler != null) {
      demanded();
    }
  }

  @Override
  public QueuedReadStream<T> handler(Handler<T> handler) {
    boolean removed = this.handler != null && handler == null;
    this.handler = handler;
    if (removed && !ended) {
      queue.clear();
      terminated = true;
      cancelled();
    } else {
      drain();
    }
    return this;
  }

  @Override
  public QueuedReadStream<T> exceptionHandler(Handler<Throwable> handler) {
    this.exceptionHandler = handler;
    drain();
    return this;
  }

  @Override
  public QueuedReadStream<T> endHandler(Handler<Void> handler) {
    this.endHandler = handler;
    drain();
    return this;
  }

  @Override
  public QueuedReadStream<T> pause() {
    demand = 0;
    return this;
  }

  @Override
  public QueuedReadStream<T> resume() {
    return fetch(Long.MAX_VALUE);
  }

  @Override
  public QueuedReadStream<T> fetch(long amount) {
    if (amount < 0) {
      throw new IllegalArgumentException("amount must not be negative, got " + amount);
    }
    demand = demand + amount < 0 ? Long.MAX_VALUE : demand + amount;
    drain();
    return this;
  }
}
