// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.web;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.spoke.vertx.client.ActorState;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.backends.BackendRegistries;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Where metrics live. Each hub and agent keeps its own registry (its gauges read its state, on its event loop, when
 * its {@code /metrics} is scraped); Vert.x's own metrics (net and HTTP servers and clients, event loops, the JVM) are
 * in the registry of the Vert.x instance, when it was made with {@link #vertxOptions()}, and are scraped with them.
 */
public final class Metrics {

  private Metrics() {
  }

  /** Options for a Vert.x instance whose own metrics go to a Prometheus registry, as the {@code spoke} commands make it. */
  public static VertxOptions vertxOptions() {
    return new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)
      .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
  }

  /** The Prometheus registry of Vert.x's own metrics, or null when the instance has none. */
  static PrometheusMeterRegistry vertxRegistry() {
    MeterRegistry registry = BackendRegistries.getDefaultNow();
    return registry instanceof PrometheusMeterRegistry prometheus ? prometheus : null;
  }

  /**
   * Rows of a gauge of actors by {@code kind} (index 0: actor, 1: process) and {@code state} (by {@link ActorState}
   * ordinal), every combination listed, so that a state that empties reads 0 rather than vanishing.
   */
  public static List<MultiGauge.Row<?>> byKindAndState(long[][] counts) {
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    for (int kind = 0; kind < 2; kind++) {
      for (ActorState s : ActorState.values()) {
        rows.add(MultiGauge.Row.of(Tags.of("kind", kind == 0 ? "actor" : "process", "state", s.name().toLowerCase(Locale.ROOT)),
          counts[kind][s.ordinal()]));
      }
    }
    return rows;
  }

  /** A registry for one hub or agent. */
  public static PrometheusMeterRegistry newRegistry() {
    return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }
}
