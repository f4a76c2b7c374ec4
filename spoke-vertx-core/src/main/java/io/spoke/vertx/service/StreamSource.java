// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.service;

import io.spoke.vertx.internal.QueuedReadStream;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.streams.ReadStream;

/**
 * The easy way for an actor to return a stream from a {@link SpokeService} method: write items into it, then
 * {@link #end()} (or {@link #fail}). The runtime reads it only as fast as the caller consumes, so respect
 * {@link #writeQueueFull()} and {@link #drainHandler} to produce no faster than that.
 * <pre>
 * public ReadStream&lt;String&gt; tokens(String prompt) {
 *   StreamSource&lt;String&gt; tokens = StreamSource.create();
 *   model.generate(prompt, token -&gt; tokens.write(token), () -&gt; tokens.end());
 *   return tokens;
 * }
 * </pre>
 * Writes from any thread are handed to the event loop of the context the source was created on.
 */
public final class StreamSource<T> implements ReadStream<T> {

  /** Default number of queued items above which {@link #writeQueueFull()} is true. */
  public static final int DEFAULT_HIGH_WATER_MARK = 64;

  private final Context context;
  private final int highWaterMark;
  /** The items and the consumer's demand; confined to {@link #context}. */
  private final Queue queue = new Queue();
  private Handler<Void> drainHandler;
  private boolean waitingForDrain;
  private boolean cancelled;

  private StreamSource(Context context, int highWaterMark) {
    this.context = context;
    this.highWaterMark = highWaterMark;
  }

  /** A source on the current context (call it on the actor's event loop). */
  public static <T> StreamSource<T> create() {
    return create(DEFAULT_HIGH_WATER_MARK);
  }

  public static <T> StreamSource<T> create(int highWaterMark) {
    Context context = Vertx.currentContext();
    if (context == null) {
      throw new IllegalStateException("StreamSource.create() must be called on a Vert.x context (an actor's method)");
    }
    if (highWaterMark < 1) {
      throw new IllegalArgumentException("highWaterMark must be at least 1, got " + highWaterMark);
    }
    return new StreamSource<>(context, highWaterMark);
  }

  /**
   * Adds an item. Returns {@code false} when the queue is over its high-water mark: stop writing until the
   * {@link #drainHandler} is called. Items written after the consumer cancelled are dropped.
   */
  public boolean write(T item) {
    if (Vertx.currentContext() == context) {
      queue.offer(item);
    } else {
      context.runOnContext(v -> queue.offer(item));
    }
    boolean full = writeQueueFull();
    if (full) {
      waitingForDrain = true;
    }
    return !full;
  }

  /** Whether more items are queued than the consumer takes now. */
  public boolean writeQueueFull() {
    return queue.queued() >= highWaterMark;
  }

  /** Called when the consumer wants more (after {@link #writeQueueFull()} was true). */
  public StreamSource<T> drainHandler(Handler<Void> handler) {
    this.drainHandler = handler;
    return this;
  }

  /** Ends the stream: the caller's stream ends after the last item. */
  public void end() {
    context.runOnContext(v -> queue.finish());
  }

  /** Fails the stream: the caller's stream fails with a {@link io.spoke.vertx.RemoteActorException}. */
  public void fail(Throwable cause) {
    context.runOnContext(v -> queue.failWith(cause));
  }

  /** Whether the consumer cancelled (or went away): stop producing. */
  public boolean isCancelled() {
    return cancelled;
  }

  @Override
  public StreamSource<T> handler(Handler<T> handler) {
    queue.handler(handler);
    return this;
  }

  @Override
  public StreamSource<T> exceptionHandler(Handler<Throwable> handler) {
    queue.exceptionHandler(handler);
    return this;
  }

  @Override
  public StreamSource<T> endHandler(Handler<Void> handler) {
    queue.endHandler(handler);
    return this;
  }

  @Override
  public StreamSource<T> pause() {
    queue.pause();
    return this;
  }

  @Override
  public StreamSource<T> resume() {
    queue.resume();
    return this;
  }

  @Override
  public StreamSource<T> fetch(long amount) {
    queue.fetch(amount);
    return this;
  }

  private final class Queue extends QueuedReadStream<T> {

    @Override
    protected void offer(T item) {
      super.offer(item);
    }

    @Override
    protected void finish() {
      super.finish();
    }

    @Override
    protected void failWith(Throwable cause) {
      super.failWith(cause);
    }

    @Override
    protected int queued() {
      return super.queued();
    }

    @Override
    protected void demanded() {
      Handler<Void> handler = drainHandler;
      if (waitingForDrain && handler != null) {
        waitingForDrain = false;
        handler.handle(null);
      }
    }

    @Override
    protected void cancelled() {
      cancelled = true;
    }
  }
}
