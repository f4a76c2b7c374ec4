package io.spoke.vertx.client;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;

/** A snapshot of the cluster: its nodes and its actors, as the hub sees them. */
public final class ClusterStatus {

  private final List<NodeInfo> nodes;
  private final List<ActorInfo> actors;

  public ClusterStatus(List<NodeInfo> nodes, List<ActorInfo> actors) {
    this.nodes = List.copyOf(nodes);
    this.actors = List.copyOf(actors);
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
    return new JsonObject().put("nodes", n).put("actors", a);
  }
}
