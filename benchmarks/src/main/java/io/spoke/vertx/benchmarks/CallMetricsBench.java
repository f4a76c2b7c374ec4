// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import static io.spoke.vertx.benchmarks.Bench.await;

import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import java.util.List;

/** call_async_metrics: the cost of the per-call metrics actors keep. */
final class CallMetricsBench {

  private CallMetricsBench() {
  }

  /**
   * What counting and timing every call in the actor costs: an actor that meters its calls (the default) against one
   * started with {@code -Dspoke.callMetrics=false}, in alternating rounds.
   */
  static void run(Bench bench, Context ctx, SpokeClient spoke) throws Exception {
    await(spoke.spawn("BenchEcho", "echo-metered", new SpawnOptions()));
    await(spoke.spawn("BenchEcho", "echo-unmetered", new SpawnOptions().setJvmOptions(List.of("-Dspoke.callMetrics=false"))));
    try {
      Buffer small = Buffer.buffer(new byte[64]);
      Load.Outcome[] both = bench.compare(ctx, () -> spoke.call("echo-unmetered", BenchActor.ECHO, small),
        () -> spoke.call("echo-metered", BenchActor.ECHO, small), 256);
      bench.emit(new Metric("call_async_metrics", both[1].perSecond(), "calls/s", both[0].perSecond(),
        "64 B, 256 in flight, the actor counting and timing each call; baseline: the same with -Dspoke.callMetrics=false"));
      bench.emit(new Metric("call_async_metrics_p50", both[1].latencies.percentileMicros(50), "us", both[0].latencies.percentileMicros(50), null));
    } finally {
      await(spoke.stop("echo-metered"));
      await(spoke.stop("echo-unmetered"));
    }
  }

}
