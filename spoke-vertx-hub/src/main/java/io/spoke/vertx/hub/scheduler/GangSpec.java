// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.scheduler;

import io.spoke.vertx.client.PlacementStrategy;
import java.util.Objects;

/** A gang to place: {@code nodes x actorsPerNode} actors of the same resources. Immutable. */
public final class GangSpec {

  private final String ticket;
  private final int nodes;
  private final int actorsPerNode;
  private final Resources perActor;
  private final PlacementStrategy strategy;
  private final String preferredNode;

  public GangSpec(String ticket, int nodes, int actorsPerNode, Resources perActor, PlacementStrategy strategy, String preferredNode) {
    if (nodes < 1 || actorsPerNode < 1) {
      throw new IllegalArgumentException("a gang needs at least 1 node and 1 actor per node, got " + nodes + " x " + actorsPerNode);
    }
    if ((long) nodes * actorsPerNode > 1_000_000) {
      throw new IllegalArgumentException("a gang of " + nodes + " x " + actorsPerNode + " ranks is too large");
    }
    this.ticket = Objects.requireNonNull(ticket, "ticket");
    this.nodes = nodes;
    this.actorsPerNode = actorsPerNode;
    this.perActor = Objects.requireNonNull(perActor, "perActor");
    this.strategy = Objects.requireNonNull(strategy, "strategy");
    this.preferredNode = preferredNode;
  }

  public String ticket() {
    return ticket;
  }

  public int nodes() {
    return nodes;
  }

  public int actorsPerNode() {
    return actorsPerNode;
  }

  public int worldSize() {
    return nodes * actorsPerNode;
  }

  public Resources perActor() {
    return perActor;
  }

  public PlacementStrategy strategy() {
    return strategy;
  }

  /** The node for rank 0, or {@code null}. */
  public String preferredNode() {
    return preferredNode;
  }

  @Override
  public String toString() {
    return ticket + ": " + nodes + " x " + actorsPerNode + " of (" + perActor + "), " + strategy
      + (preferredNode == null ? "" : ", preferring " + preferredNode);
  }
}
