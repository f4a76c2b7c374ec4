// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot.HistogramDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.Unit;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.protocol.ActorHostCodec;
import io.spoke.vertx.protocol.ActorHostCodec.CallStatsValue;
import io.spoke.vertx.protocol.ActorHostCodec.MethodCalls;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The calls of this node's Java actors, per actor and method: counted in each actor host, where they run, and read
 * from it here (a CallStatsRequest over its connection to the agent) every {@link AgentMetrics#SAMPLE_MS} ms while
 * the agent serves HTTP. Exposed to Prometheus as a collector of the agent's registry: its counts are the actor's own,
 * so they are handed over as they are, and its latency buckets become a classic Prometheus histogram. Confined to
 * the agent's event loop, where scrapes run too.
 */
final class ActorCallMetrics implements MultiCollector {

  private static final Logger log = LogManager.getLogger(ActorCallMetrics.class);
  private static final long REQUEST_TIMEOUT_MS = 1_000;

  private static final MetricMetadata CALLS = new MetricMetadata("spoke_actor_calls",
    "Calls an actor's method completed, counted in its actor host");
  private static final MetricMetadata ERRORS = new MetricMetadata("spoke_actor_call_errors",
    "Calls of an actor's method that failed: it threw, its future failed, or its result could not be sent");
  private static final MetricMetadata LATENCY = new MetricMetadata("spoke_actor_call_seconds",
    "Time from a call's arrival at its actor to its reply (a stream's: to its end)", Unit.SECONDS);
  private static final MetricMetadata REFUSED = new MetricMetadata("spoke_actor_calls_refused",
    "Calls an actor refused before any method ran: no such method, or the wrong kind of call");

  private final AgentState state;
  /** The last statistics read from each actor, by actor id. */
  private final Map<String, CallStatsValue> latest = new HashMap<>();

  ActorCallMetrics(AgentState state) {
    this.state = state;
  }

  /** Asks each running Java actor for its calls; keeps the answers for the next scrape. On the agent's loop. */
  void sample() {
    latest.keySet().removeIf(id -> !state.actors.containsKey(id));
    for (ActorProcess proc : state.actors.values()) {
      if (proc.spec != null || proc.host == null || proc.state != ActorState.RUNNING) {
        continue;
      }
      proc.host.request(ActorHostCodec.callStatsRequest(), null, REQUEST_TIMEOUT_MS, "call statistics", ActorHostCodec::readCallStats)
        .onSuccess(stats -> {
          if (state.actors.get(proc.actorId) == proc) {
            latest.put(proc.actorId, stats);
          }
        })
        .onFailure(err -> log.debug("Actor {} sent no call statistics: {}", proc.actorId, err.getMessage()));
    }
  }

  @Override
  public MetricSnapshots collect() {
    List<CounterDataPointSnapshot> calls = new ArrayList<>();
    List<CounterDataPointSnapshot> errors = new ArrayList<>();
    List<CounterDataPointSnapshot> refused = new ArrayList<>();
    List<HistogramDataPointSnapshot> latency = new ArrayList<>();
    for (Map.Entry<String, CallStatsValue> e : latest.entrySet()) {
      ActorProcess proc = state.actors.get(e.getKey());
      if (proc == null) {
        continue;
      }
      CallStatsValue stats = e.getValue();
      refused.add(point(stats.refused(), Labels.of("actor", proc.actorId, "type", proc.actorType)));
      double[] bounds = new double[stats.boundsNanos().length + 1];
      for (int i = 0; i < stats.boundsNanos().length; i++) {
        bounds[i] = stats.boundsNanos()[i] / 1e9;
      }
      bounds[bounds.length - 1] = Double.POSITIVE_INFINITY;
      Map<String, Integer> names = new HashMap<>();
      stats.methods().forEach(m -> names.merge(String.valueOf(m.name()), 1, Integer::sum));
      for (MethodCalls m : stats.methods()) {
        // A name two services of the actor share would give two series the same labels: those get their ids too.
        String method = m.name() == null ? Integer.toString(m.method()) : names.get(m.name()) > 1 ? m.name() + "#" + m.method() : m.name();
        Labels labels = Labels.of("actor", proc.actorId, "type", proc.actorType, "method", method);
        calls.add(point(m.calls(), labels));
        errors.add(point(m.errors(), labels));
        latency.add(HistogramDataPointSnapshot.builder().classicHistogramBuckets(ClassicHistogramBuckets.of(bounds, m.buckets()))
          .sum(m.sumNanos() / 1e9).labels(labels).build());
      }
    }
    return MetricSnapshots.of(new CounterSnapshot(CALLS, calls), new CounterSnapshot(ERRORS, errors),
      new HistogramSnapshot(LATENCY, latency), new CounterSnapshot(REFUSED, refused));
  }

  private static CounterDataPointSnapshot point(long value, Labels labels) {
    return CounterDataPointSnapshot.builder().value(value).labels(labels).build();
  }
}
