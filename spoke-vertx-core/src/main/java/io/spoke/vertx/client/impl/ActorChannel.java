// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client.impl;

import io.spoke.vertx.ActorDeadException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.PushView;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.spoke.vertx.serialization.Serializer;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * What the client keeps per actor it talks to: its endpoint, the connection calls go over (TCP or a Unix socket,
 * or an RDMA link after initRdma with the TCP connection that link lives no longer than), its mailbox
 * subscriptions and streams; and what arrives on and happens to those connections. Confined to the client's
 * context.
 */
final class ActorChannel {

  private static final Logger log = LogManager.getLogger(ActorChannel.class);

  /** How long to wait for the hub to report an actor's exit after its connection drops with calls in flight. */
  static final long DEATH_REPORT_GRACE_MS = 500;

  final String actorId;
  private final ActorChannels owner;
  /** Reads the pushes of this actor's connection, on the client's context. */
  private final PushView push = new PushView();
  final Map<Integer, Handler<Buffer>> subscriptions = new HashMap<>();
  private final Map<Long, ItemStream<?>> streams = new HashMap<>();
  private final Map<Long, Long> streamCalls = new HashMap<>();
  private long lastStreamId;
  private final List<Connection> awaitingDeathReport = new ArrayList<>(1);
  ActorInfo info;
  /** What calls go over: the TCP connection to the actor's host, or its RDMA link after initRdma. */
  Connection connection;
  /** With an RDMA link: the TCP connection it was opened through, which it lives no longer than. */
  Connection tcp;
  Future<Connection> connecting;
  Future<Void> rdmaStarting;

  ActorChannel(String actorId, ActorChannels owner) {
    this.actorId = actorId;
    this.owner = owner;
  }

  /** Handles what arrives on {@code c}, one of this channel's connections, and its closing. */
  void listen(Connection c) {
    c.messageHandler(this::onMessage);
    c.closeHandler(this::onClosed);
  }

  /** Calls {@code methodId} on {@code connection} as a stream whose items go to {@code stream}. */
  <Q> void openStream(Connection connection, int methodId, Q request, Serializer<Q> requestSerializer, ItemStream<?> stream,
                      int window) {
    long streamId = ++lastStreamId;
    stream.opened(connection, streamId);
    streams.put(streamId, stream);
    Promise<Void> done = owner.context.promise();
    long requestId = connection.callStream(methodId, request, requestSerializer, streamId, window, owner.callTimeout, done);
    streamCalls.put(streamId, requestId);
    done.future().onComplete(ar -> {
      streams.remove(streamId);
      streamCalls.remove(streamId);
      stream.onEnd(ar.cause());
    });
  }

  private void onMessage(Connection connection, Frame frame) {
    try {
      if (frame.bodyType() == Body.Push) {
        PushView view = push.read(frame);
        if (view.stream() != 0) {
          ItemStream<?> stream = streams.get(view.stream());
          if (stream != null) {
            Long requestId = streamCalls.get(view.stream());
            if (requestId != null) {
              connection.extendDeadline(requestId, owner.callTimeout);
            }
            try {
              stream.onItem(frame);
            } catch (RuntimeException e) {
              stream.onEnd(e);
            }
          }
          return;
        }
        int mailbox = view.mailbox();
        Handler<Buffer> handler = subscriptions.get(mailbox);
        if (handler != null) {
          try {
            handler.handle(frame.payload());
          } catch (RuntimeException e) {
            log.error("Mailbox {} handler of actor {} failed", mailbox, actorId, e);
          }
        }
      } else if (frame.id() != 0) {
        connection.replyError(frame.id(), ErrorCode.Protocol, "clients do not handle message type " + frame.bodyType());
      }
    } finally {
      frame.release();
    }
  }

  private void onClosed(Connection closed) {
    if (connection == closed) {
      if (tcp != null && !tcp.isClosed()) {
        // The RDMA link went down but the actor's TCP connection is up: calls go over TCP again.
        log.warn("RDMA link to actor {} closed; calls go over TCP again", actorId);
        connection = tcp;
      } else {
        connection = null;
      }
      tcp = null;
      subscriptions.clear();
    } else if (tcp == closed) {
      // The TCP connection is the RDMA link's lifeline: the actor host closes its end of the link with it.
      Connection rdma = connection;
      tcp = null;
      connection = null;
      subscriptions.clear();
      if (rdma != null) {
        rdma.close();
      }
    }
    if (closed.pendingCount() == 0) {
      return;
    }
    ActorInfo dead = owner.death(actorId);
    if (dead != null) {
      closed.failPending(ActorChannels.deadException(dead));
      return;
    }
    // The process probably died; its agent reports the exit status through the hub within milliseconds.
    closed.deferPendingFailure();
    awaitingDeathReport.add(closed);
    owner.context.setTimer(DEATH_REPORT_GRACE_MS, t -> {
      if (awaitingDeathReport.remove(closed)) {
        closed.failPending(new UnavailableException("lost the connection to actor '" + actorId + "' at "
          + closed.remoteAddress() + " with calls in flight; the hub has not reported the actor's exit"));
      }
    });
  }

  /** The hub reported the actor's exit: what is in flight fails with {@code dead}, and the connections close. */
  void onDeath(ActorDeadException dead) {
    info = null;
    for (Connection orphan : awaitingDeathReport) {
      orphan.failPending(dead);
    }
    awaitingDeathReport.clear();
    Connection[] open = {connection, tcp};
    connection = null;
    tcp = null;
    for (Connection c : open) {
      if (c != null) {
        c.failPending(dead);
        c.close();
      }
    }
  }

  /** The client closes: so do this channel's connections. */
  void close() {
    if (connection != null) {
      connection.close();
    }
    if (tcp != null) {
      tcp.close();
    }
  }
}
