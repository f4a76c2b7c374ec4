// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import io.spoke.vertx.SchedulingException;
import io.spoke.vertx.client.PlacementStrategy;
import io.spoke.vertx.hub.scheduler.GangPlacement;
import io.spoke.vertx.hub.scheduler.GangSpec;
import io.spoke.vertx.hub.scheduler.Resources;
import io.spoke.vertx.hub.scheduler.Scheduler;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * hub_scale: the hub's scheduler with 1,000 and 10,000 registered nodes of 8 GPUs, half occupied, placing
 * and releasing random gangs: the cost of one gangAllocate inside the hub (no network) and the heap it holds.
 * The 10,000-node figures carry ten times the 1,000-node ones as baseline: a ratio under 1 is growth slower
 * than linear.
 */
final class HubScale {

  private static final PlacementStrategy[] STRATEGIES = {PlacementStrategy.STRICT_PACK, PlacementStrategy.PACK, PlacementStrategy.SPREAD};

  private HubScale() {
  }

  static void run(boolean quick, Consumer<Metric> emit) {
    int ops = quick ? 3_000 : 30_000;
    double[] small = measure(1_000, ops);
    double[] large = measure(10_000, ops);
    emit.accept(new Metric("hub_scale_1000_p50", small[0], "us", null, "gangAllocate in the scheduler, 1,000 nodes of 8 GPUs, half used"));
    emit.accept(new Metric("hub_scale_1000_p99", small[1], "us", null, null));
    emit.accept(new Metric("hub_scale_10000_p50", large[0], "us", small[0] * 10, "baseline: 10x the 1,000-node figure (linear growth)"));
    emit.accept(new Metric("hub_scale_10000_p99", large[1], "us", small[1] * 10, "bar: under 1,000 us"));
    emit.accept(new Metric("hub_heap_1000", small[2], "MB", null, "scheduler state with its gangs"));
    emit.accept(new Metric("hub_heap_10000", large[2], "MB", small[2] * 10, null));
  }

  /** {p50 us, p99 us, heap MB} of gang placement with {@code nodes} nodes. */
  private static double[] measure(int nodes, int ops) {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    long before = usedAfterGc(memory);
    Scheduler scheduler = new Scheduler();
    BitSet gpus = new BitSet();
    gpus.set(0, 8);
    for (int i = 0; i < nodes; i++) {
      scheduler.addNode("node-" + i, gpus, 64, 512_000);
    }
    SplittableRandom random = new SplittableRandom(42);
    List<GangPlacement> live = new ArrayList<>();
    long usedGpus = 0;
    long capacity = nodes * 8L;
    Latencies latencies = new Latencies();
    long ticket = 0;
    for (int op = 0; op < ops * 2; op++) {
      // Keep the cluster about half used: allocate below half, release above it.
      if (usedGpus < capacity / 2 || live.isEmpty()) {
        int gangNodes = random.nextInt(4) == 0 ? 2 : 1;
        int perNode = 1 + random.nextInt(8);
        GangSpec spec = new GangSpec("t" + ticket++, gangNodes, perNode, new Resources(1, 1, 1_000),
          STRATEGIES[random.nextInt(STRATEGIES.length)], null);
        long start = System.nanoTime();
        try {
          GangPlacement placement = scheduler.submit(spec, false);
          long took = System.nanoTime() - start;
          if (op >= ops) {
            latencies.record(took);
          }
          live.add(placement);
          usedGpus += gangNodes * perNode;
        } catch (SchedulingException fragmented) {
          if (op >= ops) {
            latencies.record(System.nanoTime() - start);
          }
        }
      } else {
        GangPlacement placement = live.remove(random.nextInt(live.size()));
        scheduler.release(placement);
        usedGpus -= placement.ranks().size();
      }
    }
    long heap = usedAfterGc(memory) - before;
    if (scheduler.nodes().size() != nodes) {
      throw new IllegalStateException("lost nodes");
    }
    return new double[] {latencies.percentileMicros(50), latencies.percentileMicros(99), heap / 1e6};
  }

  private static long usedAfterGc(MemoryMXBean memory) {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return memory.getHeapMemoryUsage().getUsed();
  }
}
