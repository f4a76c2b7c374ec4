// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks.jmh;

import io.spoke.vertx.client.PlacementStrategy;
import io.spoke.vertx.hub.scheduler.GangPlacement;
import io.spoke.vertx.hub.scheduler.GangSpec;
import io.spoke.vertx.hub.scheduler.Resources;
import io.spoke.vertx.hub.scheduler.Scheduler;
import java.util.BitSet;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The hub's scheduler alone: place and release a gang of 2 nodes x 8 GPUs (one 16-GPU tensor-parallel job) on a
 * cluster of 8-GPU nodes, a quarter of them busy, so that placement has to search.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SchedulerBenchmark {

  @Param({"64", "1000"})
  int nodes;

  @Param({"STRICT_PACK", "SPREAD"})
  PlacementStrategy strategy;

  private Scheduler scheduler;
  private GangSpec spec;

  @Setup
  public void setup() {
    scheduler = new Scheduler();
    BitSet gpus = new BitSet();
    gpus.set(0, 8);
    for (int i = 0; i < nodes; i++) {
      scheduler.addNode("node-" + i, gpus, 64, 512_000);
    }
    for (int i = 0; i < nodes / 4; i++) {
      scheduler.submit(new GangSpec("busy-" + i, 1, 8, new Resources(1, 1, 1_000), PlacementStrategy.STRICT_PACK, null), false);
    }
    int perNode = strategy == PlacementStrategy.SPREAD ? 1 : 8;
    spec = new GangSpec("bench", strategy == PlacementStrategy.SPREAD ? 16 : 2, perNode, new Resources(1, 1, 1_000), strategy, null);
  }

  @Benchmark
  public int allocateRelease() {
    GangPlacement placement = scheduler.submit(spec, false);
    scheduler.release(placement);
    return placement.ranks().size();
  }
}
