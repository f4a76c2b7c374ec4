// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor.impl;

import io.spoke.vertx.FrameTooLargeException;
import io.spoke.vertx.SerializationException;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.ActorHostCodec;
import io.spoke.vertx.protocol.CallView;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.StreamCreditView;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.spoke.vertx.serialization.Serializer;
import io.spoke.vertx.serialization.Serializers;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.streams.ReadStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Runs the calls clients send: finds the method, runs its handler (on the event loop, or on a worker for blocking
 * methods), and replies with its result or failure; opens a {@link StreamPump} for stream calls and feeds it the
 * caller's credit. The per-call path: one reused {@link CallView}, and nothing allocated here beyond the call's
 * {@link MessageViewImpl} (and the completion of an asynchronous result). Each method's {@link CallMeter} counts and
 * times its calls, unless {@code -Dspoke.callMetrics=false}. Confined to the actor's event loop.
 */
final class CallDispatcher {

  private static final Logger log = LogManager.getLogger(CallDispatcher.class);

  private final String actorId;
  private final String actorType;
  private final MethodTable methods;
  private final CallView call = new CallView();
  private final StreamCreditView credit = new StreamCreditView();
  private final boolean metered = CallMeter.enabled();
  /** Calls refused before a method ran: no such method, or the wrong kind of call. */
  private long refused;
  private ContextInternal context;

  CallDispatcher(String actorId, String actorType, MethodTable methods) {
    this.actorId = actorId;
    this.actorType = actorType;
    this.methods = methods;
  }

  /** The actor's event loop, where blocking methods' results come back. */
  void starting(ContextInternal context) {
    this.context = context;
  }

  void onCall(Connection connection, Frame frame) {
    long start = metered ? System.nanoTime() : 0;
    long id = frame.id();
    CallView header = call.read(frame);
    int methodId = header.method();
    boolean oneway = header.oneway();
    long streamId = header.stream();
    long credit = header.credit();
    MethodEntry method = methods.get(methodId);
    String refusal = null;
    short code = ErrorCode.UnknownMethod;
    if (method == null) {
      refusal = "actor '" + actorId + "' (" + actorType + ") has no method " + methodId + " (0x" + Integer.toHexString(methodId)
        + "); its methods are " + methods.methodList();
    } else if ((streamId != 0) != (method.kind == MethodEntry.Kind.STREAM)) {
      code = ErrorCode.InvalidArgument;
      refusal = method.describe() + " of actor '" + actorId + "' " + (streamId != 0 ? "does not return a stream"
        : "returns a stream: call it with callStream");
    }
    if (refusal != null) {
      refused++;
      frame.release();
      if (oneway) {
        log.warn("One-way call refused: {}", refusal);
      } else {
        connection.replyError(id, code, refusal);
      }
      return;
    }
    MessageViewImpl view = new MessageViewImpl(frame, methodId);
    if (method.kind == MethodEntry.Kind.STREAM) {
      startStream(connection, frame, id, streamId, credit, method, view, start);
      return;
    }
    if (method.kind == MethodEntry.Kind.BLOCKING) {
      context.executeBlocking(() -> method.handler.handle(view), false)
        .onComplete(ar -> complete(connection, id, oneway, method, ar.succeeded() ? ar.result() : null, ar.cause(), frame,
          start));
      return;
    }
    Object result;
    try {
      result = method.handler.handle(view);
    } catch (Throwable failure) {
      complete(connection, id, oneway, method, null, failure, frame, start);
      rethrowIfFatal(failure);
      return;
    }
    if (result instanceof Future) {
      ((Future<?>) result).onComplete(ar -> complete(connection, id, oneway, method, ar.succeeded() ? ar.result() : null, ar.cause(),
        frame, start));
    } else {
      complete(connection, id, oneway, method, result, null, frame, start);
    }
  }

  /** A stream's consumer grants more items, or cancels. */
  void onStreamCredit(Connection connection, Frame frame) {
    // Read before the release: the view reads the frame's buffer.
    StreamCreditView credit = this.credit.read(frame);
    long streamId = credit.stream();
    boolean cancel = credit.cancel();
    long granted = credit.credit();
    frame.release();
    StreamPump pump = ((ClientState) connection.attachment()).streams.get(streamId);
    if (pump != null) {
      if (cancel) {
        pump.cancel();
      } else {
        pump.grant(granted);
      }
    }
  }

  /** Sends the outcome of a call (none for one-way calls), releases its frame, and counts the call. */
  private void complete(Connection connection, long id, boolean oneway, MethodEntry method, Object value, Throwable failure,
                        Frame frame, long start) {
    boolean failed = failure != null;
    try {
      if (oneway || method.kind == MethodEntry.Kind.ONE_WAY) {
        if (failure != null) {
          log.warn("One-way {} of actor {} failed", method.describe(), actorId, failure);
        } else if (!oneway) {
          connection.reply(id, null);
        }
      } else if (failure != null) {
        replyFailure(connection, id, failure);
      } else {
        failed = !replyValue(connection, id, method, value);
      }
    } finally {
      frame.release();
      meter(method, start, failed);
    }
  }

  /** A call of {@code method} that arrived at {@code start} is over (a stream: it ended), failed or not. */
  void meter(MethodEntry method, long start, boolean failed) {
    if (metered) {
      method.meter.record(System.nanoTime() - start, failed);
    }
  }

  /** A copy of the counts so far, with the calls refused; no methods when it does not count. On the actor's event loop. */
  ActorHostCodec.CallStatsValue callStats() {
    List<ActorHostCodec.MethodCalls> out = new ArrayList<>();
    if (metered) {
      methods.forEach(m -> out.add(m.meter.snapshot(m.id, m.name)));
    }
    return new ActorHostCodec.CallStatsValue(out, refused, CallMeter.BOUNDS_NANOS.clone());
  }

  private void startStream(Connection connection, Frame frame, long id, long streamId, long credit, MethodEntry method,
                           MessageViewImpl view, long start) {
    ClientState state = connection.attachment();
    if (state.streams.containsKey(streamId)) {
      frame.release();
      connection.replyError(id, ErrorCode.Protocol, "stream " + streamId + " is already open on this connection");
      return;
    }
    ReadStream<?> source;
    try {
      source = method.streamHandler.handle(view);
      if (source == null) {
        throw new NullPointerException(method.describe() + " returned a null stream");
      }
    } catch (Throwable failure) {
      frame.release();
      replyFailure(connection, id, failure);
      meter(method, start, true);
      rethrowIfFatal(failure);
      return;
    }
    StreamPump pump = new StreamPump(this, connection, state, id, streamId, method, source, frame, start);
    state.streams.put(streamId, pump);
    pump.start(credit);
  }

  /** Replies with a call's result; false when it could not be sent (too large, or not serializable). */
  @SuppressWarnings("unchecked")
  private boolean replyValue(Connection connection, long id, MethodEntry method, Object value) {
    try {
      if (method.responseSerializer != null) {
        connection.reply(id, (Serializer<Object>) method.responseSerializer, value);
      } else if (value == null) {
        connection.reply(id, null);
      } else if (value instanceof Buffer) {
        connection.reply(id, (Buffer) value);
      } else {
        connection.reply(id, Serializers.forValue(value), value);
      }
      return true;
    } catch (FrameTooLargeException e) {
      connection.replyError(id, ErrorCode.FrameTooLarge, "the result of " + method.describe() + " of actor '" + actorId
        + "' is too large: " + e.getMessage());
    } catch (SerializationException e) {
      connection.replyError(id, ErrorCode.Serialization, "actor '" + actorId + "' could not serialize the result of "
        + method.describe() + ": " + e.getMessage());
    } catch (RuntimeException e) {
      connection.replyError(id, ErrorCode.Serialization, "actor '" + actorId + "' could not serialize the result of "
        + method.describe() + ": " + e);
    }
    return false;
  }

  /** Replies to call {@code id} with the failure its method raised (its class and message). */
  void replyFailure(Connection connection, long id, Throwable failure) {
    log.debug("Method of actor {} failed", actorId, failure);
    connection.replyError(id, ErrorCode.RemoteFailure, failure.getMessage(), failure.getClass().getName(), null);
  }

  private static void rethrowIfFatal(Throwable failure) {
    if (failure instanceof VirtualMachineError) {
      throw (VirtualMachineError) failure;
    }
  }
}
