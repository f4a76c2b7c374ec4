// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client.impl;

import io.spoke.vertx.internal.QueuedReadStream;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.serialization.Serializer;
import io.vertx.core.Handler;
import io.vertx.core.internal.ContextInternal;

/**
 * The client's end of a streamed result: items arrive as Push frames of its stream id, wait here until the
 * application's demand takes them, and are paid for with credit: every half window consumed is granted
 * back to the actor, so at most a window of items is ever ahead of the application. Lives on the client's
 * context; its public methods may be called from anywhere.
 */
final class ItemStream<T> extends QueuedReadStream<T> {

  private final ContextInternal context;
  private final Serializer<T> serializer;
  private final int window;
  private Connection connection;
  private long streamId;
  private int consumedSinceCredit;
  private boolean done;

  ItemStream(ContextInternal context, Serializer<T> serializer, int window) {
    this.context = context;
    this.serializer = serializer;
    this.window = window;
  }

  /** The call went out on {@code connection} as stream {@code streamId}. */
  void opened(Connection connection, long streamId) {
    this.connection = connection;
    this.streamId = streamId;
  }

  /** An item arrived. */
  void onItem(Frame frame) {
    T item = serializer.readsView() ? serializer.read(frame.copyPayload()) : serializer.read(frame.payload());
    offer(item);
  }

  /** The call ended: the stream ends after its last item, or fails. */
  void onEnd(Throwable failure) {
    done = true;
    if (failure == null) {
      finish();
    } else {
      failWith(failure);
    }
  }

  @Override
  protected void consumed() {
    if (++consumedSinceCredit >= Math.max(1, window / 2)) {
      sendCredit(consumedSinceCredit, false);
      consumedSinceCredit = 0;
    }
  }

  @Override
  protected void cancelled() {
    if (!done) {
      sendCredit(0, true);
    }
  }

  private void sendCredit(int credit, boolean cancel) {
    Connection c = connection;
    if (c != null && !c.isClosed() && !done) {
      c.sendStreamCredit(streamId, credit, cancel);
    }
  }

  private void onContext(Runnable action) {
    if (context.inThread()) {
      action.run();
    } else {
      context.runOnContext(v -> action.run());
    }
  }

  @Override
  public ItemStream<T> handler(Handler<T> handler) {
    onContext(() -> super.handler(handler));
    return this;
  }

  @Override
  public ItemStream<T> exceptionHandler(Handler<Throwable> handler) {
    onContext(() -> super.exceptionHandler(handler));
    return this;
  }

  @Override
  public ItemStream<T> endHandler(Handler<Void> handler) {
    onContext(() -> super.endHandler(handler));
    return this;
  }

  @Override
  public ItemStream<T> pause() {
    onContext(super::pause);
    return this;
  }

  @Override
  public ItemStream<T> resume() {
    onContext(super::resume);
    return this;
  }

  @Override
  public ItemStream<T> fetch(long amount) {
    onContext(() -> super.fetch(amount));
    return this;
  }
}
