package io.spoke.vertx.web;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.micrometer.backends.BackendRegistries;

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

  /** A registry for one hub or agent. */
  public static PrometheusMeterRegistry newRegistry() {
    return new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  }
}
