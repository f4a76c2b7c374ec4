// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/** A snapshot of the cluster: its nodes and its actors, as the hub sees them. */
public final class ClusterStatus {

  private final List<NodeInfo> nodes;
  private final List<ActorInfo> actors;
  private final List<Allocation> tickets;

  public ClusterStatus(List<NodeInfo> nodes, List<ActorInfo> actors, List<Allocation> tickets) {
    this.nodes = List.copyOf(nodes);
    this.actors = List.copyOf(actors);
    this.tickets = List.copyOf(tickets);
  }

  /** Every live ticket (pending, allocated or failed). */
  public List<Allocation> tickets() {
    return tickets;
  }

  public List<NodeInfo> nodes() {
    return nodes;
  }

  public List<ActorInfo> actors() {
    return actors;
  }

  public JsonObject toJson() {
    JsonArray n = new JsonArray();
    nodes.forEach(node -> n.add(node.toJson()));
    JsonArray a = new JsonArray();
    actors.forEach(actor -> a.add(actor.toJson()));
    JsonArray t = new JsonArray();
    tickets.forEach(ticket -> t.add(ticket.toJson()));
    return new JsonObject().put("nodes", n).put("actors", a).put("tickets", t);
  }
}
