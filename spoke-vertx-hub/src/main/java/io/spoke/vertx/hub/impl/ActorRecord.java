package io.spoke.vertx.hub.impl;

import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.hub.scheduler.Reservation;
import io.spoke.vertx.internal.net.Connection;
import java.util.HashSet;
import java.util.Set;

/** A live (starting, running or stopping) actor in the hub's directory. */
final class ActorRecord {

  final String nodeId;
  /** What the actor holds on its own; {@code null} for gang actors, whose resources belong to their ticket. */
  final Reservation reservation;
  /** The clients told when the actor exits. */
  final Set<Connection> watchers = new HashSet<>();
  ActorInfo info;

  ActorRecord(ActorInfo info, String nodeId, Reservation reservation) {
    this.info = info;
    this.nodeId = nodeId;
    this.reservation = reservation;
  }

  String id() {
    return info.id();
  }
}
