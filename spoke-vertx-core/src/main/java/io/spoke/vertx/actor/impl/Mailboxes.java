// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor.impl;

import io.netty.util.collection.IntObjectHashMap;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.ActorCodec;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.serialization.Serializer;
import io.vertx.core.buffer.Buffer;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The actor's mailboxes: which client connections subscribed to each, and the pushes to them. Confined to the actor's
 * event loop.
 */
final class Mailboxes {

  private final IntObjectHashMap<Set<Connection>> subscribers = new IntObjectHashMap<>();

  /** Pushes {@code data} to every subscriber of {@code mailbox}; returns how many there are. */
  int push(int mailbox, Buffer data) {
    Set<Connection> targets = subscribers.get(mailbox);
    if (targets == null) {
      return 0;
    }
    for (Connection connection : targets) {
      connection.push(mailbox, 0, data);
    }
    return targets.size();
  }

  /** Pushes {@code value}, which {@code serializer} writes into each frame, to every subscriber of {@code mailbox}. */
  <T> int push(int mailbox, T value, Serializer<T> serializer) {
    Set<Connection> targets = subscribers.get(mailbox);
    if (targets == null) {
      return 0;
    }
    for (Connection connection : targets) {
      connection.push(mailbox, 0, serializer, value);
    }
    return targets.size();
  }

  int subscribers(int mailbox) {
    Set<Connection> targets = subscribers.get(mailbox);
    return targets == null ? 0 : targets.size();
  }

  /** A client's Subscribe: it receives {@code mailbox}'s pushes from now on. Releases the frame and replies. */
  void onSubscribe(Connection connection, Frame frame) {
    int mailbox = ActorCodec.readSubscribe(frame);
    long id = frame.id();
    frame.release();
    subscribers.computeIfAbsent(mailbox, k -> new LinkedHashSet<>()).add(connection);
    ((ClientState) connection.attachment()).mailboxes.add(mailbox);
    connection.reply(id, null);
  }

  /** A client's Unsubscribe. Releases the frame and replies. */
  void onUnsubscribe(Connection connection, Frame frame) {
    int mailbox = ActorCodec.readUnsubscribe(frame);
    long id = frame.id();
    frame.release();
    leave(connection, mailbox);
    ((ClientState) connection.attachment()).mailboxes.remove(mailbox);
    connection.reply(id, null);
  }

  /** {@code connection} closed: it leaves every mailbox it subscribed to. */
  void closed(Connection connection, ClientState state) {
    for (int mailbox : state.mailboxes) {
      leave(connection, mailbox);
    }
  }

  private void leave(Connection connection, int mailbox) {
    Set<Connection> targets = subscribers.get(mailbox);
    if (targets != null) {
      targets.remove(connection);
      if (targets.isEmpty()) {
        subscribers.remove(mailbox);
      }
    }
  }
}
