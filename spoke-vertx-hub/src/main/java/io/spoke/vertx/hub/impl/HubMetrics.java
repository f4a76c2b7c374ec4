// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.TicketState;
import io.spoke.vertx.hub.scheduler.NodeState;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.protocol.fb.Body;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The hub's metrics, in its own registry: gauges of what it holds (nodes, GPUs, tickets, queued gangs, actors and
 * processes, connections), read from its state when {@code /metrics} is scraped, on its event loop; counters and
 * timers of what happened (requests by type, placements, gang waits, restarts, exits by reason, refused proofs).
 * Recording allocates nothing: meters are made once.
 */
final class HubMetrics {

  /** How an actor's end is counted: by what ended it, not by its free-text reason. */
  enum ExitReason { STOPPED, EXITED, FAILED, KILLED, NODE_DIED, LOST }

  /** What restarted: an actor or process in place (its agent), one moved off a dead node, or a whole gang. */
  enum RestartKind { IN_PLACE, MOVED, GANG }

  final PrometheusMeterRegistry registry;
  private final Timer[] requests = new Timer[Body.names.length];
  private final EnumMap<ExitReason, Counter> exits = new EnumMap<>(ExitReason.class);
  private final EnumMap<RestartKind, Counter> restarts = new EnumMap<>(RestartKind.class);
  private final Timer placement;
  private final Timer gangWait;
  private final MultiGauge nodeGpus;
  private final MultiGauge actors;
  private final MultiGauge tickets;

  HubMetrics(PrometheusMeterRegistry registry, HubState state, java.util.Collection<?> connections) {
    this.registry = registry;
    for (int type = 0; type < requests.length; type++) {
      requests[type] = Timer.builder("spoke_hub_requests").description("Requests handled, by message type (time on the hub's loop)")
        .tag("type", Body.names[type]).register(registry);
    }
    for (ExitReason reason : ExitReason.values()) {
      exits.put(reason, Counter.builder("spoke_hub_actor_exits").description("Actors and processes that ended, by what ended them")
        .tag("reason", reason.name().toLowerCase()).register(registry));
    }
    for (RestartKind kind : RestartKind.values()) {
      restarts.put(kind, Counter.builder("spoke_hub_restarts").description("Restarts under restart policies")
        .tag("kind", kind.name().toLowerCase()).register(registry));
    }
    placement = Timer.builder("spoke_hub_placement").description("Time to place a gang or an actor (the scheduler's work)")
      .publishPercentileHistogram().minimumExpectedValue(Duration.ofNanos(1_000)).maximumExpectedValue(Duration.ofSeconds(1))
      .register(registry);
    gangWait = Timer.builder("spoke_hub_gang_allocation").description("Time from a gang's request to its allocation (queueing included)")
      .publishPercentileHistogram().maximumExpectedValue(Duration.ofMinutes(10)).register(registry);
    for (boolean alive : new boolean[] {true, false}) {
      Gauge.builder("spoke_hub_nodes", state, s -> s.nodes.values().stream().filter(n -> n.alive == alive).count())
        .description("Nodes known to the hub").tag("state", alive ? "alive" : "dead").register(registry);
    }
    Gauge.builder("spoke_hub_gang_queue", state, s -> s.scheduler.waiting().size())
      .description("Gang requests waiting for resources").register(registry);
    Gauge.builder("spoke_hub_connections", connections, java.util.Collection::size).description("Open connections (clients and agents)")
      .register(registry);
    nodeGpus = MultiGauge.builder("spoke_hub_node_gpus").description("GPUs of each alive node, free or used").register(registry);
    actors = MultiGauge.builder("spoke_hub_actors").description("Actors and processes, by kind and state").register(registry);
    tickets = MultiGauge.builder("spoke_hub_tickets").description("Tickets (gang allocations), by state").register(registry);
  }

  /** Counts the connections the hub's server refuses for their proof. */
  void auth(ClusterAuth auth) {
    FunctionCounter.builder("spoke_hub_auth_failures", auth, ClusterAuth::refusedCount)
      .description("Connections refused for a missing or wrong cluster token").register(registry);
  }

  /** Just before a scrape, on the hub's loop: the gauges whose rows come and go (nodes, states) are read again. */
  void refresh(HubState state, Map<String, TicketRecord> ticketRecords) {
    List<MultiGauge.Row<?>> gpuRows = new ArrayList<>();
    for (NodeRecord node : state.nodes.values()) {
      NodeState resources = state.scheduler.node(node.id);
      if (!node.alive || resources == null) {
        continue;
      }
      long free = resources.freeGpus().cardinality();
      gpuRows.add(MultiGauge.Row.of(Tags.of("node", node.id, "state", "free"), free));
      gpuRows.add(MultiGauge.Row.of(Tags.of("node", node.id, "state", "used"), node.gpus.size() - free));
    }
    nodeGpus.register(gpuRows, true);
    long[][] byState = new long[2][ActorState.values().length];
    for (ActorRecord record : state.actors.values()) {
      byState[record.info.isProcess() ? 1 : 0][record.info.state().ordinal()]++;
    }
    actors.register(io.spoke.vertx.web.Metrics.byKindAndState(byState), true);
    long[] ticketsByState = new long[TicketState.values().length];
    for (TicketRecord ticket : ticketRecords.values()) {
      if (ticket.releasing == null) {
        ticketsByState[ticket.state.ordinal()]++;
      }
    }
    List<MultiGauge.Row<?>> ticketRows = new ArrayList<>();
    for (TicketState s : TicketState.values()) {
      if (s != TicketState.RELEASED) {
        ticketRows.add(MultiGauge.Row.of(Tags.of("state", s.name().toLowerCase()), ticketsByState[s.ordinal()]));
      }
    }
    tickets.register(ticketRows, true);
  }

  void request(int bodyType, long startNanos) {
    if (bodyType >= 0 && bodyType < requests.length) {
      requests[bodyType].record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    }
  }

  void placed(long startNanos) {
    placement.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }

  void gangAllocated(long requestedAtNanos) {
    gangWait.record(System.nanoTime() - requestedAtNanos, TimeUnit.NANOSECONDS);
  }

  void restarted(RestartKind kind) {
    restarts.get(kind).increment();
  }

  void exited(ActorInfo exited) {
    exits.get(reason(exited)).increment();
  }

  static ExitReason reason(ActorInfo exited) {
    String why = exited.reason() == null ? "" : exited.reason();
    if (why.startsWith("stopped")) {
      return ExitReason.STOPPED;
    }
    if (why.contains("node") && why.contains("died")) {
      return ExitReason.NODE_DIED;
    }
    if (why.startsWith("killed")) {
      return ExitReason.KILLED;
    }
    if (why.contains("no longer reports")) {
      return ExitReason.LOST;
    }
    return exited.exitCode() == 0 ? ExitReason.EXITED : ExitReason.FAILED;
  }
}
