// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.client.PlacementStrategy;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.client.TicketState;
import io.spoke.vertx.hub.scheduler.GangPlacement;
import io.spoke.vertx.hub.scheduler.GangSpec;
import io.spoke.vertx.hub.scheduler.Resources;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A ticket as a record of the {@link TicketJournal} ({@code "op":"allocated"}), and back: what a restarted hub needs
 * to hold its resources and answer for it.
 */
final class JournalRecords {

  private JournalRecords() {
  }

  /** A ticket as a journal record: what a restarted hub needs to hold its resources and answer for it. */
  static JsonObject record(TicketRecord ticket) {
    GangSpec spec = ticket.spec;
    JsonArray ranks = new JsonArray();
    for (GangPlacement.Rank rank : ticket.placement.ranks()) {
      JsonArray gpus = new JsonArray();
      for (int gpu : rank.reservation().gpuIds()) {
        gpus.add(gpu);
      }
      ranks.add(new JsonObject().put("node", rank.nodeId()).put("gpus", gpus));
    }
    JsonObject custom = new JsonObject();
    spec.perActor().custom().forEach(custom::put);
    JsonObject record = new JsonObject().put("op", "allocated").put("ticket", ticket.id).put("session", ticket.owner.id)
      .put("detached", ticket.detached).put("timeoutMs", ticket.timeoutMs)
      .put("nodes", spec.nodes()).put("actorsPerNode", spec.actorsPerNode()).put("gpus", spec.perActor().gpus())
      .put("cpus", spec.perActor().cpus()).put("memoryMb", spec.perActor().memoryMb()).put("custom", custom)
      .put("strategy", spec.strategy().name()).put("preferredNode", spec.preferredNode())
      .put("masterAddr", ticket.masterAddr).put("masterPort", ticket.masterPort).put("portHolder", ticket.portHolder)
      .put("ranks", ranks);
    if (ticket.state == TicketState.FAILED) {
      record.put("state", "FAILED").put("reason", ticket.reason);
    }
    if (!ticket.deadNodes.isEmpty()) {
      record.put("deadNodes", new JsonArray(new ArrayList<>(ticket.deadNodes)));
    }
    if (ticket.restart.mode() != RestartPolicy.Mode.NEVER) {
      JsonArray recipes = new JsonArray();
      for (int rank = 0; ticket.recipes != null && rank < ticket.recipes.length; rank++) {
        recipes.add(ticket.recipes[rank] == null ? null : ticket.recipes[rank].toJson());
      }
      record.put("restart", ticket.restart.toJson()).put("restarts", ticket.history.total()).put("restarting", underWay(ticket))
        .put("restartTimes", new JsonArray(new ArrayList<>(ticket.history.times()))).put("recipes", recipes);
    }
    return record;
  }

  /** Rank {@code rank} of {@code ticket} was launched as its recipe says (none: its launch failed, it has no recipe). */
  static JsonObject launched(TicketRecord ticket, int rank) {
    RankRecipe recipe = ticket.recipes == null ? null : ticket.recipes[rank];
    return new JsonObject().put("op", "launched").put("ticket", ticket.id).put("rank", rank).put("recipe", recipe == null ? null
      : recipe.toJson());
  }

  /**
   * Whether a gang restart is under way as a restarted hub must see it: until every rank has been started again (ranks
   * may wait for a node cut off), a hub that dies finishes it; what was started again by then is stopped and started
   * again with the rest.
   */
  private static boolean underWay(TicketRecord ticket) {
    return ticket.restarting || !ticket.relaunching.isEmpty();
  }

  /** The ticket's gang restarts as they are now: how many and when, whether one is under way, and its state. */
  static JsonObject restart(TicketRecord ticket) {
    JsonObject record = new JsonObject().put("op", "restart").put("ticket", ticket.id).put("restarts", ticket.history.total())
      .put("restarting", underWay(ticket)).put("times", new JsonArray(new ArrayList<>(ticket.history.times())))
      .put("reason", ticket.reason);
    if (ticket.state == TicketState.FAILED) {
      record.put("state", "FAILED");
    }
    return record;
  }

  /**
   * The ticket a journal record describes, its placement restored in the scheduler (reserved as each node registers)
   * and its owner's session found or made; not yet among the desk's tickets.
   */
  static TicketRecord restore(JsonObject r, HubState state) {
    String id = r.getString("ticket");
    Map<String, Long> custom = new LinkedHashMap<>();
    r.getJsonObject("custom", new JsonObject()).forEach(e -> custom.put(e.getKey(), ((Number) e.getValue()).longValue()));
    GangSpec spec = new GangSpec(id, r.getInteger("nodes"), r.getInteger("actorsPerNode"), new Resources(r.getInteger("gpus"),
      r.getInteger("cpus"), r.getLong("memoryMb"), custom), PlacementStrategy.valueOf(r.getString("strategy")), r.getString("preferredNode"));
    List<String> nodeIds = new ArrayList<>();
    List<int[]> gpuIds = new ArrayList<>();
    for (Object o : r.getJsonArray("ranks")) {
      JsonObject rank = (JsonObject) o;
      nodeIds.add(Objects.requireNonNull(rank.getString("node"), "node"));
      gpuIds.add(rank.getJsonArray("gpus").stream().mapToInt(g -> ((Number) g).intValue()).toArray());
    }
    GangPlacement placement = state.scheduler.restore(spec, nodeIds, gpuIds);
    String sessionId = Objects.requireNonNull(r.getString("session"), "session");
    long timeoutMs = r.getLong("timeoutMs");
    int masterPort = r.getInteger("masterPort");
    ClientSession owner = state.sessions.computeIfAbsent(sessionId, ClientSession::new);
    TicketRecord ticket = new TicketRecord(id, owner, r.getBoolean("detached", false), spec, timeoutMs);
    ticket.placement = placement;
    ticket.masterAddr = r.getString("masterAddr");
    ticket.masterPort = masterPort;
    ticket.portHolder = r.getString("portHolder");
    ticket.portCheckedAtNanos = System.nanoTime() - PortLeases.LEASE_TTL_NANOS;
    // An actor may have bound the port before the restart: it goes back to the agent, never to the leases.
    ticket.launched = true;
    ticket.journaled = true;
    ticket.state = "FAILED".equals(r.getString("state")) ? TicketState.FAILED : TicketState.ALLOCATED;
    ticket.reason = r.getString("reason");
    r.getJsonArray("deadNodes", new JsonArray()).forEach(n -> ticket.deadNodes.add((String) n));
    ticket.awaiting.addAll(placement.unboundNodes());
    ticket.awaiting.removeAll(ticket.deadNodes);
    JsonObject restart = r.getJsonObject("restart");
    if (restart != null) {
      ticket.restartPolicy(RestartPolicy.fromJson(restart));
      ticket.history.setTotal(r.getInteger("restarts", 0));
      List<Long> times = new ArrayList<>();
      r.getJsonArray("restartTimes", new JsonArray()).forEach(t -> times.add(((Number) t).longValue()));
      ticket.history.restoreTimes(times);
      // A gang restart the hub died in: finished once the ticket's nodes are back (TicketRecovery).
      ticket.restarting = r.getBoolean("restarting", false);
      ticket.resumeRestart = ticket.restarting;
      JsonArray recipes = r.getJsonArray("recipes", new JsonArray());
      if (!recipes.isEmpty()) {
        ticket.recipes = new RankRecipe[spec.worldSize()];
        for (int rank = 0; rank < Math.min(recipes.size(), ticket.recipes.length); rank++) {
          JsonObject recipe = recipes.getJsonObject(rank);
          ticket.recipes[rank] = recipe == null ? null : RankRecipe.fromJson(recipe);
        }
      }
    }
    return ticket;
  }
}
