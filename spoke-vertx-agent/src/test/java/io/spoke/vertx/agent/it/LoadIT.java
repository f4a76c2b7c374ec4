// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * 200 client connections with 50 calls in flight each against a pool of actor processes: every call completes
 * exactly once (each actor counts what it executed, and the counts handed out are exactly 1..N), and the
 * hub's and agent's memory stays bounded. Figures in RELIABILITY.md.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class LoadIT {

  static final int CLIENTS = 200;
  static final int IN_FLIGHT = 50;
  static final int CALLS_PER_CLIENT = 250;
  static final int ACTORS = 4;

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    cluster.start(vertx);
    cluster.startAgent(new AgentOptions().setGpus(0));
  }

  @Test
  void everyCallOfTwoHundredClientsCompletesExactlyOnce() throws Exception {
    SpokeClient spawner = cluster.client();
    List<ActorHandle> pool = new ArrayList<>();
    for (int i = 0; i < ACTORS; i++) {
      pool.add(cluster.spawn(spawner, "Echo", "pool-" + i));
    }
    long heapBefore = usedHeapAfterGc();

    // Each actor's ADD returns the number of calls it has executed: over the run, each number exactly once.
    BitSet[] seen = new BitSet[ACTORS];
    int[] sent = new int[ACTORS];
    for (int i = 0; i < ACTORS; i++) {
      seen[i] = new BitSet();
    }
    AtomicInteger duplicates = new AtomicInteger();
    AtomicInteger failures = new AtomicInteger();
    long start = System.nanoTime();
    List<Future<Void>> done = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      SpokeClient client = cluster.client();
      int clientIndex = c;
      Promise<Void> finished = Promise.promise();
      done.add(finished.future());
      AtomicInteger issued = new AtomicInteger();
      AtomicInteger completed = new AtomicInteger();
      Runnable[] next = new Runnable[1];
      next[0] = () -> {
        int n = issued.getAndIncrement();
        if (n >= CALLS_PER_CLIENT) {
          return;
        }
        int a = (clientIndex + n) % ACTORS;
        synchronized (sent) {
          sent[a]++;
        }
        client.call(pool.get(a).id(), TestActors.ADD, 0L, Serializers.LONG, Serializers.LONG).onComplete(ar -> {
          if (ar.succeeded()) {
            int count = ar.result().intValue();
            synchronized (seen) {
              if (seen[a].get(count)) {
                duplicates.incrementAndGet();
              }
              seen[a].set(count);
            }
          } else {
            failures.incrementAndGet();
            System.err.println("call failed: " + ar.cause());
          }
          if (completed.incrementAndGet() == CALLS_PER_CLIENT) {
            finished.complete();
          } else {
            next[0].run();
          }
        });
      };
      for (int i = 0; i < IN_FLIGHT; i++) {
        next[0].run();
      }
    }
    await(Future.all(done));
    long elapsedMs = (System.nanoTime() - start) / 1_000_000;
    int total = CLIENTS * CALLS_PER_CLIENT;
    long heapAfter = usedHeapAfterGc();
    long rssKb = 0;
    for (ActorHandle actor : pool) {
      rssKb = Math.max(rssKb, TestCluster.rssKb(actor.info().pid()));
    }
    System.out.printf("load: %d clients x %d in flight, %d calls in %d ms (%d calls/s); test JVM heap (hub, agent, clients) %d MB "
        + "before, %d MB after (after GC); largest actor host RSS %d MB%n", CLIENTS, IN_FLIGHT, total, elapsedMs,
      total * 1000L / Math.max(1, elapsedMs), heapBefore >> 20, heapAfter >> 20, rssKb >> 10);

    assertThat(failures.get()).isZero();
    assertThat(duplicates.get()).isZero();
    for (int a = 0; a < ACTORS; a++) {
      // Executed exactly as often as called: counts 1..sent, none missing, none beyond.
      assertThat(seen[a].cardinality()).as("distinct counts of actor %d", a).isEqualTo(sent[a]);
      assertThat(seen[a].nextSetBit(0)).isEqualTo(1);
      assertThat(seen[a].length() - 1).isEqualTo(sent[a]);
      long executed = await(pool.get(a).call(TestActors.ADD, 0L, Serializers.LONG, Serializers.LONG));
      assertThat(executed).as("calls actor %d executed, this one included", a).isEqualTo(sent[a] + 1);
    }
    assertThat(heapAfter - heapBefore).as("heap growth in bytes").isLessThan(128L << 20);
  }

  private static long usedHeapAfterGc() {
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
