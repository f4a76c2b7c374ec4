// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * A gang's reservation, named by its ticket: one {@link Slot} per global rank, with the node and the exact
 * GPU ids of each. Returned by {@link SpokeClient#gangAllocate} before anything is launched, so that the
 * caller can prepare its configuration knowing the placement. Immutable: a snapshot.
 */
public final class Allocation {

  private final String ticketId;
  private final TicketState state;
  private final PlacementStrategy strategy;
  private final boolean detached;
  private final List<Slot> slots;
  private final String reason;
  private final RestartPolicy restart;
  private final int restarts;

  public Allocation(String ticketId, TicketState state, PlacementStrategy strategy, boolean detached, List<Slot> slots,
                    String reason) {
    this(ticketId, state, strategy, detached, slots, reason, RestartPolicy.never(), 0);
  }

  private Allocation(String ticketId, TicketState state, PlacementStrategy strategy, boolean detached, List<Slot> slots,
                     String reason, RestartPolicy restart, int restarts) {
    this.ticketId = ticketId;
    this.state = state;
    this.strategy = strategy;
    this.detached = detached;
    this.slots = List.copyOf(slots);
    this.reason = reason;
    this.restart = restart;
    this.restarts = restarts;
  }

  /** This allocation with its gang-restart policy and the gang restarts so far. */
  public Allocation withRestarts(RestartPolicy restart, int restarts) {
    return new Allocation(ticketId, state, strategy, detached, slots, reason, restart == null ? RestartPolicy.never() : restart,
      restarts);
  }

  public String ticketId() {
    return ticketId;
  }

  public TicketState state() {
    return state;
  }

  public PlacementStrategy strategy() {
    return strategy;
  }

  /** Whether the ticket outlives its client (and so needs an explicit release). */
  public boolean detached() {
    return detached;
  }

  /** One slot per global rank, in rank order. */
  public List<Slot> slots() {
    return slots;
  }

  /** The slot of {@code globalRank}. */
  public Slot slot(int globalRank) {
    return slots.get(globalRank);
  }

  /** Number of ranks. */
  public int worldSize() {
    return slots.size();
  }

  /** Why the ticket failed, or else why its gang last restarted; {@code null} if neither happened. */
  public String reason() {
    return reason;
  }

  /** The ticket's gang restart ({@code GangRequest.setRestart}); {@link RestartPolicy#never()} when it has none. */
  public RestartPolicy restart() {
    return restart;
  }

  /** How many times the whole gang has been restarted. */
  public int restarts() {
    return restarts;
  }

  /** {@code MASTER_ADDR} of every rank: rank 0's node. */
  public String masterAddr() {
    return slots.isEmpty() ? null : slots.get(0).masterAddr();
  }

  /** {@code MASTER_PORT} of every rank. */
  public int masterPort() {
    return slots.isEmpty() ? 0 : slots.get(0).masterPort();
  }

  public JsonObject toJson() {
    JsonArray array = new JsonArray();
    slots.forEach(s -> array.add(s.toJson()));
    JsonObject json = new JsonObject()
      .put("ticket", ticketId)
      .put("state", state.name())
      .put("strategy", strategy.name())
      .put("detached", detached)
      .put("slots", array);
    if (reason != null) {
      json.put("reason", reason);
    }
    if (restart.mode() != RestartPolicy.Mode.NEVER) {
      json.put("restart", restart.toJson()).put("restarts", restarts);
    }
    return json;
  }

  @Override
  public String toString() {
    return "Allocation" + toJson().encode();
  }
}
