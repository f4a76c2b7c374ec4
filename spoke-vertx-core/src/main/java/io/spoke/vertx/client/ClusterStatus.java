// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/** A snapshot of the cluster: its nodes, actors and tickets as the hub sees them, and its hubs where several run. */
public final class ClusterStatus {

  private final List<NodeInfo> nodes;
  private final List<ActorInfo> actors;
  private final List<Allocation> tickets;
  private final List<HubInfo> hubs;

  public ClusterStatus(List<NodeInfo> nodes, List<ActorInfo> actors, List<Allocation> tickets) {
    this(nodes, actors, tickets, List.of());
  }

  public ClusterStatus(List<NodeInfo> nodes, List<ActorInfo> actors, List<Allocation> tickets, List<HubInfo> hubs) {
    this.nodes = List.copyOf(nodes);
    this.actors = List.copyOf(actors);
    this.tickets = List.copyOf(tickets);
    this.hubs = List.copyOf(hubs);
  }

  /**
   * The hubs of a highly available control plane, the leader first, then its standbys (each hub that holds its etcd
   * lease); empty where one hub runs alone.
   */
  public List<HubInfo> hubs() {
    return hubs;
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
    JsonObject json = new JsonObject().put("nodes", n).put("actors", a).put("tickets", t);
    if (!hubs.isEmpty()) {
      JsonArray h = new JsonArray();
      hubs.forEach(hub -> h.add(hub.toJson()));
      json.put("hubs", h);
    }
    return json;
  }
}
