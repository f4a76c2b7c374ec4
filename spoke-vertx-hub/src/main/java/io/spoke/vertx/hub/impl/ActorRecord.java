// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.hub.scheduler.Reservation;
import io.spoke.vertx.hub.scheduler.Resources;
import io.spoke.vertx.internal.net.Connection;
import java.util.HashSet;
import java.util.Set;

/** A live (starting, running or stopping) actor in the hub's directory. */
final class ActorRecord {

  final String nodeId;
  /** What the actor holds on its own; {@code null} for gang actors, whose resources belong to their ticket. */
  Reservation reservation;
  /** The clients told when the actor exits. */
  final Set<Connection> watchers = new HashSet<>();
  /** Whether a stop was asked for (a spawn that then fails was stopped, not refused). */
  boolean stopRequested;
  ActorInfo info;
  /**
   * How an ad-hoc actor with a restart policy was started (and what it asked for), so that it can be started again on
   * another node when its node dies; null otherwise.
   */
  ActorLaunch launch;
  Resources resources;
  /** Times it was started again elsewhere after its node died. */
  int relocations;
  /** The hub's id of the spawn that made it, which every report of the instance from its agent carries. */
  String spawnId;
  /**
   * A start whose answer went with its agent's link: it waits for the node to say how it went (or for its timeout,
   * {@link #pendingTimer}); null otherwise.
   */
  ActorLaunch pending;
  long pendingTimer = -1;

  ActorRecord(ActorInfo info, String nodeId, Reservation reservation) {
    this.info = info;
    this.nodeId = nodeId;
    this.reservation = reservation;
  }

  String id() {
    return info.id();
  }
}
