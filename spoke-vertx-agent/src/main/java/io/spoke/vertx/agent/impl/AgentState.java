// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.Dismissal;
import io.spoke.vertx.agent.process.ActorCds;
import io.spoke.vertx.agent.process.ActorLogs;
import io.spoke.vertx.agent.process.ActorSockets;
import io.spoke.vertx.agent.process.ProcessLauncher;
import io.spoke.vertx.agent.process.ProcessTrees;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.internal.BoundedMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import java.util.HashMap;
import java.util.Map;

/**
 * What the agent knows and holds, shared by its parts ({@link HubLink}, {@link HubRequests}, {@link ActorSupervisor},
 * {@link ActorHostListener}): its actor processes, what it found on the machine, and who it is to the hub. Confined to
 * the agent verticle's event loop, as everything its parts touch (the launcher and the workers hand results back
 * there).
 */
final class AgentState {

  /** Exited actors remembered, so that a late stop or log read finds them. */
  static final int RECENTLY_EXITED = 256;

  final Vertx vertx;
  final ContextInternal context;
  final AgentOptions options;
  final Map<String, ActorProcess> actors = new HashMap<>();
  final Map<String, ActorInfo> recentlyExited = new BoundedMap<>(RECENTLY_EXITED);
  final RendezvousPorts ports;
  NodeInventory inventory;
  ProcessLauncher launcher;
  /** Where the trees of managed processes are kept (a cgroup, or their environment tag). */
  ProcessTrees trees;
  ActorLogs logs;
  /** AppCDS archive of actor hosts; null when turned off. */
  ActorCds cds;
  /** Where actors put their Unix sockets; {@code null} when they have none. */
  ActorSockets sockets;
  /** The cluster token, or null. */
  byte[] token;
  /** The port actor hosts connect back to, once the agent listens. */
  int port;
  /** Who this agent is to the hub, from its first connection on (its node id, and the address it advertises). */
  String nodeId;
  String advertiseHost;
  boolean stopping;
  /** Actor hosts started ahead of their actors. */
  WarmPool pool;
  final ColdStarts coldStarts = new ColdStarts();
  /** Completed when the hub dismisses this agent: the cluster ends (see {@link Dismissal}). */
  final Promise<Dismissal> dismissal = Promise.promise();
  final AgentMetrics metrics = new AgentMetrics(io.spoke.vertx.web.Metrics.newRegistry());

  AgentState(Vertx vertx, ContextInternal context, AgentOptions options) {
    this.vertx = vertx;
    this.context = context;
    this.options = options;
    this.ports = new RendezvousPorts(options.getMasterPortRange());
  }
}
