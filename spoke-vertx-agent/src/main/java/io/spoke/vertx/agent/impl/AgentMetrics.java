// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.spoke.vertx.client.ActorState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The agent's metrics, in its own registry: spawns and their time to ready by kind (a cold JVM, one from the CDS
 * archive, a managed process), failed spawns, its actors and processes by state, and each one's resident memory and
 * log size, and each Java actor's calls ({@link ActorCallMetrics}). Memory and log sizes are read from {@code /proc}
 * and the file system on a worker, and calls from the actor hosts, every {@link #SAMPLE_MS} ms while the agent
 * serves HTTP; everything else is read on the agent's loop at the scrape.
 */
final class AgentMetrics {

  /** How a spawn started, for its timer. */
  enum SpawnKind { COLD, CDS, WARM, PROCESS }

  static final long SAMPLE_MS = 2_000;

  final PrometheusMeterRegistry registry;
  private final Map<SpawnKind, Timer> spawns = new java.util.EnumMap<>(SpawnKind.class);
  private final Map<SpawnKind, Counter> failures = new java.util.EnumMap<>(SpawnKind.class);
  private final MultiGauge actors;
  private final MultiGauge rss;
  private final MultiGauge logBytes;
  private final MultiGauge warm;
  /** The last sample, by actor id: resident bytes and log bytes. */
  private Map<String, long[]> sampled = Map.of();
  private long sampler = -1;
  private ActorCallMetrics calls;

  AgentMetrics(PrometheusMeterRegistry registry) {
    this.registry = registry;
    for (SpawnKind kind : SpawnKind.values()) {
      String tag = kind.name().toLowerCase();
      spawns.put(kind, Timer.builder("spoke_agent_spawn").description("Time from a spawn's start to its actor (or process) being ready")
        .tag("kind", tag).publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(60)).register(registry));
      failures.put(kind, Counter.builder("spoke_agent_spawn_failures").description("Spawns that did not become ready")
        .tag("kind", tag).register(registry));
    }
    actors = MultiGauge.builder("spoke_agent_actors").description("Actors and processes on this node, by kind and state").register(registry);
    rss = MultiGauge.builder("spoke_agent_actor_rss").description("Resident memory of each actor's or process's main process")
      .baseUnit("bytes").register(registry);
    warm = MultiGauge.builder("spoke_agent_warm_hosts").description("Actor hosts started ahead of their actors, by state")
      .register(registry);
    logBytes = MultiGauge.builder("spoke_agent_log").description("Size of each actor's or process's log file").baseUnit("bytes")
      .register(registry);
  }

  /** A spawn that started at {@code startNanos} is ready, or did not get there. */
  void spawned(SpawnKind kind, long startNanos, boolean ready) {
    if (ready) {
      spawns.get(kind).record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
    } else {
      failures.get(kind).increment();
    }
  }

  /** Samples memory and log sizes every {@link #SAMPLE_MS} ms, on a worker. On the agent's loop. */
  void startSampling(AgentState state) {
    calls = new ActorCallMetrics(state);
    registry.getPrometheusRegistry().register(calls);
    sampler = state.vertx.setPeriodic(SAMPLE_MS, t -> {
      calls.sample();
      Map<String, Object[]> targets = new HashMap<>();
      for (ActorProcess proc : state.actors.values()) {
        targets.put(proc.actorId, new Object[] {proc.pid, proc.logFile});
      }
      state.vertx.executeBlocking(() -> sample(targets), false).onSuccess(map -> sampled = map);
    });
  }

  void stopSampling(AgentState state) {
    if (sampler >= 0) {
      state.vertx.cancelTimer(sampler);
      registry.getPrometheusRegistry().unregister(calls);
    }
  }

  /** Before a scrape, on the agent's loop. */
  void refresh(AgentState state) {
    long[][] byState = new long[2][ActorState.values().length];
    for (ActorProcess proc : state.actors.values()) {
      byState[proc.spec != null ? 1 : 0][proc.state.ordinal()]++;
    }
    actors.register(io.spoke.vertx.web.Metrics.byKindAndState(byState), true);
    warm.register(List.of(MultiGauge.Row.of(Tags.of("state", "idle"), state.pool.idle()),
      MultiGauge.Row.of(Tags.of("state", "starting"), state.pool.starting())), true);
    List<MultiGauge.Row<?>> memory = new ArrayList<>();
    List<MultiGauge.Row<?>> logs = new ArrayList<>();
    for (Map.Entry<String, long[]> e : sampled.entrySet()) {
      if (!state.actors.containsKey(e.getKey())) {
        continue;
      }
      if (e.getValue()[0] >= 0) {
        memory.add(MultiGauge.Row.of(Tags.of("actor", e.getKey()), e.getValue()[0]));
      }
      if (e.getValue()[1] >= 0) {
        logs.add(MultiGauge.Row.of(Tags.of("actor", e.getKey()), e.getValue()[1]));
      }
    }
    rss.register(memory, true);
    logBytes.register(logs, true);
  }

  /** On a worker: each target's resident bytes ({@code /proc/PID/status}'s VmRSS) and log size; -1 where unknown. */
  private static Map<String, long[]> sample(Map<String, Object[]> targets) {
    Map<String, long[]> out = new HashMap<>();
    for (Map.Entry<String, Object[]> e : targets.entrySet()) {
      long pid = (Long) e.getValue()[0];
      Path log = (Path) e.getValue()[1];
      out.put(e.getKey(), new long[] {pid > 0 ? rss(pid) : -1, size(log)});
    }
    return out;
  }

  static long rss(long pid) {
    try {
      for (String line : Files.readAllLines(Paths.get("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          String[] parts = line.substring(6).trim().split("\\s+");
          return Long.parseLong(parts[0]) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // gone, or not Linux
    }
    return -1;
  }

  private static long size(Path file) {
    try {
      return file == null ? -1 : Files.size(file);
    } catch (IOException e) {
      return -1;
    }
  }
}
