// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import static io.spoke.vertx.benchmarks.Bench.await;

import io.spoke.vertx.agent.AgentVerticle;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.SpawnOptions;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The agent's warm pool of actor hosts: a spawn that takes a warm host, to its ack and its first call, against the
 * cold spawn with the CDS archive in the same run; a burst of spawns at once, with the pool and with every spawn
 * asking for a cold start, and the burst's stop; and what the idle hosts cost in memory.
 */
final class WarmPoolBench extends BenchSection {

  /** The bench agent's pool. */
  static final int POOL = 4;

  private final AgentVerticle agent;

  WarmPoolBench(Bench bench) {
    super(bench);
    this.agent = bench.agent;
  }

  /** The warm spawns against {@code coldAck}, the median cold spawn's ack in this run; then the bursts. */
  void run(double coldAck) throws Exception {
    spawnWarm(coldAck);
    burst();
  }

  /**
   * {@code runs} spawns, each with the pool full (no refill starting a JVM beside it): p50 and p99 of the ack and of
   * the first call; {@code coldAck} is the median cold spawn's ack in this run, the baseline.
   */
  void spawnWarm(double coldAck) throws Exception {
    int runs = quick ? 10 : 50;
    double[] ack = new double[runs];
    double[] first = new double[runs];
    Buffer small = Buffer.buffer(new byte[64]);
    for (int i = 0; i < runs; i++) {
      awaitFullPool();
      List<Long> warm = await(agent.warmHostPids());
      long start = System.nanoTime();
      ActorHandle handle = await(client.spawn("BenchEcho", "warm-" + i));
      ack[i] = (System.nanoTime() - start) / 1e6;
      await(handle.call(BenchActor.ECHO, small));
      first[i] = (System.nanoTime() - start) / 1e6;
      if (!warm.contains(handle.info().pid())) {
        throw new IllegalStateException("spawn warm-" + i + " did not take a warm host");
      }
      await(handle.stop());
    }
    String note = runs + " spawns, each taking a warm host; baseline: the cold spawn with the CDS archive (its median)";
    emit(new Metric("spawn_warm_ack", Latencies.percentile(ack, 50), "ms", coldAck, note));
    emit(new Metric("spawn_warm_ack_p99", Latencies.percentile(ack, 99), "ms", coldAck, null));
    emit(new Metric("spawn_warm_first_call", Latencies.percentile(first, 50), "ms", coldAck, null));
    emit(new Metric("spawn_warm_first_call_p99", Latencies.percentile(first, 99), "ms", coldAck, null));

    awaitFullPool();
    long rss = 0;
    for (long pid : await(agent.warmHostPids())) {
      rss += FootprintBench.statusKb(pid, "VmRSS:") * 1024;
    }
    emit(new Metric("warm_host_rss", rss / (double) POOL / (1 << 20), "MiB", null, "resident memory of one idle warm host"));
    emit(new Metric("warm_pool_rss", rss / (double) (1 << 20), "MiB", null, "of the agent's pool of " + POOL + " idle hosts"));
  }

  /**
   * {@code n} actors spawned at once, then stopped at once: actors/s to all ready with the pool full, against every
   * spawn asking for a cold start, in the same run.
   */
  void burst() throws Exception {
    int n = quick ? 20 : 100;
    double[] cold = burst("burst-cold", n, true);
    awaitFullPool();
    double[] warm = burst("burst-warm", n, false);
    String note = n + " actors at once on one agent (its pool of " + POOL + " full); baseline: the same, every spawn cold";
    emit(new Metric("spawn_burst", warm[0], "actors/s", cold[0], note));
    emit(new Metric("stop_burst", warm[1], "actors/s", cold[1], n + " stops at once, of those actors"));
  }

  /** {actors/s spawned, actors/s stopped}. */
  private double[] burst(String prefix, int n, boolean coldStart) throws Exception {
    List<Future<ActorHandle>> spawns = new ArrayList<>();
    long start = System.nanoTime();
    Bench.onContext(context, () -> {
      for (int i = 0; i < n; i++) {
        spawns.add(client.spawn("BenchEcho", prefix + "-" + i, new SpawnOptions().setColdStart(coldStart)));
      }
      return null;
    });
    List<ActorHandle> actors = new ArrayList<>();
    for (Future<ActorHandle> spawn : spawns) {
      actors.add(await(spawn));
    }
    double spawned = n / ((System.nanoTime() - start) / 1e9);
    List<Future<Void>> stops = new ArrayList<>();
    start = System.nanoTime();
    Bench.onContext(context, () -> {
      actors.forEach(a -> stops.add(a.stop()));
      return null;
    });
    for (Future<Void> stop : stops) {
      await(stop);
    }
    return new double[] {spawned, n / ((System.nanoTime() - start) / 1e9)};
  }

  private void awaitFullPool() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (await(agent.warmHostsIdle()) < POOL) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the agent's warm pool did not fill within 120 s");
      }
      Thread.sleep(20);
    }
  }

}
