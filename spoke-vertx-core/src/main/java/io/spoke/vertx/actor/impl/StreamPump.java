// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor.impl;

import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.serialization.Serializer;
import io.vertx.core.streams.ReadStream;

/**
 * Sends the items of a stream to its caller, reading the source only as fast as the caller's credit
 * allows; the source's end or failure is the reply to the call. The request frame is held (its views may
 * be used by the source) until the stream ends.
 */
final class StreamPump {

  private final CallDispatcher calls;
  private final Connection connection;
  private final ClientState state;
  private final long requestId;
  private final long streamId;
  private final MethodEntry method;
  private final ReadStream<Object> source;
  private final Frame request;
  /** When the call arrived, for its meter. */
  private final long start;
  private boolean done;

  @SuppressWarnings("unchecked")
  StreamPump(CallDispatcher calls, Connection connection, ClientState state, long requestId, long streamId, MethodEntry method,
             ReadStream<?> source, Frame request, long start) {
    this.calls = calls;
    this.connection = connection;
    this.state = state;
    this.requestId = requestId;
    this.streamId = streamId;
    this.method = method;
    this.source = (ReadStream<Object>) source;
    this.request = request;
    this.start = start;
  }

  @SuppressWarnings("unchecked")
  void start(long credit) {
    source.pause();
    source.exceptionHandler(err -> finish(err));
    source.endHandler(v -> finish(null));
    Serializer<Object> serializer = (Serializer<Object>) method.responseSerializer;
    source.handler(item -> {
      if (done) {
        return;
      }
      try {
        connection.push(0, streamId, serializer, item);
      } catch (RuntimeException e) {
        finish(e);
      }
    });
    grant(credit);
  }

  void grant(long credit) {
    if (!done && credit > 0) {
      source.fetch(credit);
    }
  }

  void finish(Throwable failure) {
    if (done) {
      return;
    }
    done = true;
    state.streams.remove(streamId);
    request.release();
    if (failure == null) {
      connection.reply(requestId, null);
    } else {
      calls.replyFailure(connection, requestId, failure);
    }
    calls.meter(method, start, failure != null);
  }

  /** The caller wants no more, or is gone: stop reading the source, and let the source know. */
  void cancel() {
    if (done) {
      return;
    }
    done = true;
    state.streams.remove(streamId);
    source.pause();
    source.handler(null);
    request.release();
    connection.reply(requestId, null);
    calls.meter(method, start, false);
  }
}
