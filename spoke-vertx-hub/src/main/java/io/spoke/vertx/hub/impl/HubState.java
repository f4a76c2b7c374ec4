// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.client.HubInfo;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.hub.scheduler.Scheduler;
import io.vertx.core.Vertx;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * What the hub knows, shared by its handlers ({@link AgentHandler} for nodes, {@link ClientHandler} for client
 * sessions, {@link ActorDirectory} for actors, {@link TicketDesk} for gangs): the scheduler's view of the nodes'
 * resources, the nodes, the live actors and the client sessions. Confined to the hub's event loop, as everything the
 * handlers touch.
 */
final class HubState {

  final Vertx vertx;
  final HubOptions options;
  final Scheduler scheduler = new Scheduler();
  final Map<String, NodeRecord> nodes = new TreeMap<>();
  final Map<String, ActorRecord> actors = new HashMap<>();
  final Map<String, ClientSession> sessions = new HashMap<>();
  /** Tells this hub's made-up names (anonymous sessions, port leases) from those of an earlier hub of the same journal. */
  final String instanceTag = Long.toString(new java.security.SecureRandom().nextInt() & 0x7fffffff, 36);

  /** Set by the hub's server before it starts. */
  HubMetrics metrics;
  /** Faults a test injects into the handlers (a bug, in effect); none otherwise. */
  final InjectedFaults faults = new InjectedFaults();
  /** The hubs of a highly available control plane as the status shows them, the leader first; none for a hub alone. */
  Supplier<List<HubInfo>> hubs = List::of;
  /** Where the ad-hoc actors run, in the state log (once the hub has one). */
  final ActorLedger ledger = new ActorLedger();
  /** Set as the hub's server stops: its timers (grace periods, restore windows) then do nothing. */
  boolean stopped;
  private long spawns;

  HubState(Vertx vertx, HubOptions options) {
    this.vertx = vertx;
    this.options = options;
  }

  /** A new spawn's id, unique to this hub (and, by its instance tag, among the hubs of one journal). */
  String nextSpawnId() {
    return instanceTag + "-" + (++spawns);
  }
}
