// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.client.TicketState;
import io.spoke.vertx.hub.scheduler.GangPlacement;
import io.spoke.vertx.hub.scheduler.GangSpec;
import io.spoke.vertx.internal.RestartHistory;
import io.spoke.vertx.internal.net.Connection;
import io.vertx.core.Future;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** A gang allocation from request to release. */
final class TicketRecord {

  final String id;
  final ClientSession owner;
  final boolean detached;
  final GangSpec spec;
  final long timeoutMs;
  /** When it was asked for (System.nanoTime()). */
  final long requestedAtNanos = System.nanoTime();
  TicketState state = TicketState.PENDING;
  GangPlacement placement;
  String masterAddr;
  int masterPort;
  /** The id under which rank 0's agent holds {@link #masterPort}: the ticket's own, or a lease's. */
  String portHolder;
  /** When the agent checked {@link #masterPort} free (System.nanoTime()): a recycled port keeps its age. */
  long portCheckedAtNanos;
  /** Whether a launch was ever attempted: then an actor may have bound {@link #masterPort}. */
  boolean launched;
  String reason;
  /** The actor launched in each rank, if any (kept after it exits, for introspection). */
  final String[] actors;
  /** While the allocation request waits for its answer: the requester and its request id. */
  Connection requester;
  long requestId;
  long deadlineTimer = -1;
  /** Set once a release started; later releases join it. */
  Future<Void> releasing;
  /** Whether its allocation is in the journal (so its release must be too). */
  boolean journaled;
  /** Nodes of its ranks that died: their ranks hold nothing. */
  final Set<String> deadNodes = new TreeSet<>();
  /** Read back from the journal: nodes of its ranks that have not registered with this hub yet. */
  final Set<String> awaiting = new TreeSet<>();
  /**
   * Gang restart: its policy, the restarts so far and when (the budget counts those within the policy's window),
   * whether one is under way (its ranks stopping, or the back-off), and how each launched rank starts again. All
   * journaled with the ticket.
   */
  RestartPolicy restart = RestartPolicy.never();
  RestartHistory history = new RestartHistory(restart);
  boolean restarting;
  /** Read back from the journal in the middle of a gang restart, which is finished once its nodes are back. */
  boolean resumeRestart;
  RankRecipe[] recipes;
  /** During a gang restart: who watched each rank, for its next instance. */
  final Map<Integer, Set<Connection>> keptWatchers = new HashMap<>();
  /** After a gang restart's back-off: the ranks not started again yet (their node is cut off, or their last instance not gone). */
  final Set<Integer> relaunching = new TreeSet<>();

  /** Sets the gang restart policy, with a history of its own. */
  void restartPolicy(RestartPolicy policy) {
    restart = policy;
    history = new RestartHistory(policy);
  }

  TicketRecord(String id, ClientSession owner, boolean detached, GangSpec spec, long timeoutMs) {
    this.id = id;
    this.owner = owner;
    this.detached = detached;
    this.spec = spec;
    this.timeoutMs = timeoutMs;
    this.actors = new String[spec.worldSize()];
  }
}
