package io.spoke.vertx.hub.impl;

import io.spoke.vertx.client.GpuInfo;
import io.spoke.vertx.internal.net.Connection;
import java.util.ArrayDeque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What the hub knows of a node beyond its resources (which the scheduler keeps). */
final class NodeRecord {

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

  NodeRecord(String id) {
    this.id = id;
  }
}
