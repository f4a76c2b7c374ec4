// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.InvalidRequestException;
import io.spoke.vertx.client.PlacementStrategy;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.hub.scheduler.GangSpec;
import io.spoke.vertx.hub.scheduler.Resources;
import io.spoke.vertx.protocol.GangAllocateView;
import io.spoke.vertx.protocol.Names;
import java.util.Map;
import java.util.Objects;

/**
 * A client's GangAllocate, checked: the gang it asks for ({@code spec}) and its gang restart policy.
 *
 * @param spec    the gang: its ticket id, shape, resources per rank, strategy and preferred node
 * @param restart its gang restart policy ({@link RestartPolicy#never()} when none)
 */
record AllocationRequest(GangSpec spec, RestartPolicy restart) {

  /** The largest gang the hub takes. */
  static final long MAX_RANKS = 100_000;

  /** What {@code g} asks for; an {@link InvalidRequestException} saying what is wrong with it otherwise. */
  static AllocationRequest read(GangAllocateView g) {
    String ticketId = g.ticket();
    String error = Names.checkId("ticket id", ticketId);
    if (error == null && (g.nodes() < 1 || g.actorsPerNode() < 1)) {
      error = "a gang needs at least 1 node and 1 actor per node, got " + g.nodes() + " x " + g.actorsPerNode();
    }
    if (error == null && (long) g.nodes() * g.actorsPerNode() > MAX_RANKS) {
      error = "a gang of " + g.nodes() + " x " + g.actorsPerNode() + " ranks is too large";
    }
    if (error == null && (g.gpus() < 0 || g.cpus() < 0 || g.memoryMb() < 0 || g.timeoutMs() <= 0)) {
      error = "resources must not be negative and the timeout must be positive";
    }
    if (error == null && (g.strategy() < 0 || g.strategy() >= PlacementStrategy.values().length)) {
      error = "unknown placement strategy " + g.strategy();
    }
    if (error != null) {
      throw new InvalidRequestException(error);
    }
    Map<String, Long> custom = g.custom();
    for (Map.Entry<String, Long> e : custom.entrySet()) {
      String bad = Names.checkId("custom resource name", e.getKey());
      if (bad == null && e.getValue() < 0) {
        bad = "custom resource " + e.getKey() + " must not be negative";
      }
      if (bad != null) {
        throw new InvalidRequestException(bad);
      }
    }
    RestartPolicy restart;
    try {
      restart = g.restart();
    } catch (IllegalArgumentException e) {
      throw new InvalidRequestException(e.getMessage());
    }
    String preferred = g.preferredNode() == null || g.preferredNode().isEmpty() ? null : g.preferredNode();
    GangSpec spec = new GangSpec(ticketId, g.nodes(), g.actorsPerNode(), new Resources(g.gpus(), g.cpus(), g.memoryMb(), custom),
      PlacementStrategy.values()[g.strategy()], preferred);
    return new AllocationRequest(spec, restart);
  }

  /** Whether two asks are for the same gang: a client asking again for what it has (its answer was lost). */
  static boolean sameGang(GangSpec a, GangSpec b) {
    Resources x = a.perActor();
    Resources y = b.perActor();
    return a.nodes() == b.nodes() && a.actorsPerNode() == b.actorsPerNode() && a.strategy() == b.strategy()
      && Objects.equals(a.preferredNode(), b.preferredNode()) && x.gpus() == y.gpus() && x.cpus() == y.cpus()
      && x.memoryMb() == y.memoryMb() && x.custom().equals(y.custom());
  }
}
