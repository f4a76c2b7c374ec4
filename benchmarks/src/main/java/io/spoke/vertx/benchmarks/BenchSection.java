// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.hub.HubVerticle;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.nio.file.Path;

/**
 * A section of {@link Bench} in a class of its own: what the harness set up (its Vert.x instance and the context its
 * client belongs to, the embedded hub, the client), where results go, the run's timing, and where metrics are sent.
 */
abstract class BenchSection {

  final Bench bench;
  final Vertx vertx;
  final Context context;
  final HubVerticle hub;
  final SpokeClient client;
  final Path out;
  final boolean quick;
  final long warmupMs;
  final long durationMs;

  BenchSection(Bench bench) {
    this.bench = bench;
    this.vertx = bench.vertx;
    this.context = bench.context;
    this.hub = bench.hub;
    this.client = bench.client;
    this.out = bench.out;
    this.quick = bench.quick;
    this.warmupMs = bench.warmupMs;
    this.durationMs = bench.durationMs;
  }

  void emit(Metric metric) {
    bench.emit(metric);
  }
}
