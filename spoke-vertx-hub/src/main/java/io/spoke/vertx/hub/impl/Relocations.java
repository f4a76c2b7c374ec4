// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.hub.scheduler.Reservation;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Ad-hoc actors with a restart policy that their node lost (it died, or its agent restarted without them), started
 * again under what is left of their budget: on another node with room, or where they were. Their watchers hear that
 * they restart, then that they run. For the {@link ActorDirectory}, on the hub's loop.
 */
final class Relocations {

  private static final Logger log = LogManager.getLogger(Relocations.class);

  private final HubState state;
  private final ActorDirectory directory;

  Relocations(HubState state, ActorDirectory directory) {
    this.state = state;
    this.directory = directory;
  }

  /**
   * Starts ad-hoc actor {@code record}, whose node died, again on another node with room for what it asked for, under
   * its restart policy's budget; returns false (the caller reports it dead) when it has none, or no node has room.
   * Its watchers hear that it is restarting, then that it runs again.
   */
  boolean relocate(ActorRecord record, String why) {
    ActorLaunch first = record.launch;
    if (first == null || record.resources == null) {
      return false;
    }
    int used = record.info.restarts();
    if (!first.restart.restartsAfter(-1) || used >= first.restart.maxRestarts()) {
      return false;
    }
    Reservation reservation;
    try {
      reservation = state.scheduler.allocate(record.resources, null);
    } catch (RuntimeException noRoom) {
      reservation = inItsOwnPlace(record);
      if (reservation == null) {
        log.warn("Actor {} cannot be started again: {} and no node has room ({})", record.id(), why, noRoom.getMessage());
        return false;
      }
    }
    NodeRecord node = state.nodes.get(reservation.nodeId());
    directory.forget(record);
    List<Integer> gpuIds = new ArrayList<>();
    for (int gpu : reservation.gpuIds()) {
      gpuIds.add(gpu);
    }
    ActorInfo restarting = new ActorInfo(record.id(), record.info.type(), node.id, node.host, 0, 0, null, ActorState.RESTARTING, -1,
      why + "; starting it again on node " + node.id, gpuIds).withProcess(record.info.command(), List.of()).withRestarts(used + 1);
    ActorRecord moved = new ActorRecord(restarting, node.id, reservation);
    moved.watchers.addAll(record.watchers);
    moved.resources = record.resources;
    moved.relocations = record.relocations + 1;
    // The next instance counts on from here: its starts (SPOKE_ATTEMPT) and what is left of the budget.
    Map<String, String> env = new LinkedHashMap<>(first.env);
    env.put("SPOKE_ATTEMPT", String.valueOf(used + 1));
    ActorLaunch again = new ActorLaunch(null, first.session, 0, moved, node, env, first.jvmOptions, first.timeoutMs, first.args, null,
      () -> { }, first.process, first.restart.withMaxRestarts(first.restart.maxRestarts() - used - 1), first.liveness);
    moved.launch = again;
    state.metrics.restarted(HubMetrics.RestartKind.MOVED);
    directory.changed(moved, restarting);
    log.info("Actor {}: {}; starting it again on node {}", record.id(), why, node.id);
    directory.startActor(again);
    return true;
  }

  /**
   * Room for {@code record} where it held its own (its node is alive: its agent restarted without it): its own
   * reservation given back and taken again, or null (then it holds what it held) when even that does not fit.
   */
  private Reservation inItsOwnPlace(ActorRecord record) {
    Reservation own = record.reservation;
    NodeRecord node = state.nodes.get(record.nodeId);
    if (own == null || node == null || !node.alive) {
      return null;
    }
    state.scheduler.release(own);
    try {
      Reservation again = state.scheduler.allocate(record.resources, record.nodeId);
      record.reservation = null;
      return again;
    } catch (RuntimeException noRoom) {
      record.reservation = state.scheduler.adopt(record.nodeId, own.gpuIds());
      return null;
    }
  }
}
