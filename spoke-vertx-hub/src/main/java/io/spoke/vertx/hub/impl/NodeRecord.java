// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.client.GpuInfo;
import io.spoke.vertx.hub.scheduler.Reservation;
import io.spoke.vertx.internal.net.Connection;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What the hub knows of a node beyond its resources (which the scheduler keeps). */
final class NodeRecord {

  /**
   * An instance on the node that the hub is stopping without accounting for it elsewhere (see {@link
   * ActorDirectory#orphan}): what it holds stays reserved until the node confirms it is gone.
   *
   * @param ticket its ticket, or null; {@code rank} its rank (-1 for none): the rank is not launched again meanwhile
   * @param gpuIds the GPUs it runs on; {@code reservation} those of them it holds (a rank's are its ticket's until the
   *     ticket is released)
   */
  record Orphan(String actorId, String spawnId, String ticket, int rank, int[] gpuIds, Reservation reservation) {
  }

  final String id;
  final Set<String> actors = new HashSet<>();
  String host;
  int port;
  List<GpuInfo> gpus = List.of();
  Map<String, Long> custom = Map.of();
  /** The agent's connection; {@code null} while disconnected. */
  Connection connection;
  boolean alive;
  long lastSeen;
  /**
   * Rendezvous ports the agent holds for the hub ahead of allocations, so that a gang whose rank 0 is here is
   * answered without a round trip to the agent (see {@link PortLeases}); valid for {@link #connection} only.
   */
  final ArrayDeque<PortLease> leases = new ArrayDeque<>();
  int leasesRequested;
  /** Instances being stopped that the hub does not account for otherwise, by actor id. */
  final Map<String, Orphan> orphans = new HashMap<>();

  /** Whether an orphan of rank {@code rank} of {@code ticket} is still being stopped here. */
  boolean holdsOrphanOf(String ticket, int rank) {
    return orphans.values().stream().anyMatch(o -> ticket.equals(o.ticket()) && o.rank() == rank);
  }

  NodeRecord(String id) {
    this.id = id;
  }
}
