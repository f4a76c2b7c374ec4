// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import io.spoke.vertx.RdmaUnavailableException;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.spoke.vertx.serialization.Serializers;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The RDMA path (SpokeClient.initRdma, UCX) against UCX's own {@code ucx_perftest} on the same transport, and
 * against Spoke's TCP path to an identical actor, in the same run. The link uses peer error handling, so
 * ucx_perftest runs with {@code -e} too (UCX then picks the same transports: TCP on this machine, which has
 * no RDMA NIC and gives up shared memory under peer error handling in UCX 1.13).
 */
final class RdmaBench {

  private RdmaBench() {
  }

  /**
   * Runs on Netty's epoll transport where it is available (client and actors), so that UCX is progressed on
   * the event loops (UcxRuntime's event-loop mode); otherwise on {@code nioClient}'s NIO loop, with a progress
   * thread per process.
   */
  static void run(Bench bench, Context nioCtx, SpokeClient nioClient, int hubPort, boolean quick, long warmupMs, long durationMs)
    throws Exception {
    Vertx nativeVertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    try {
      if (nativeVertx.isNativeTransportEnabled()) {
        Context ctx = nativeVertx.getOrCreateContext();
        SpokeClient client = io.vertx.core.Future.<SpokeClient>future(p -> ctx.runOnContext(v ->
          p.complete(SpokeClient.create(nativeVertx, new SpokeClientOptions().setHubPort(hubPort).setLocalSockets(false)))))
          .await(30, TimeUnit.SECONDS);
        try {
          run(bench, ctx, client, List.of("-Dspoke.nativeTransport=true"), "epoll", quick, warmupMs, durationMs);
        } finally {
          await(client.close());
        }
      } else {
        System.err.println("spoke bench: native transport unavailable; the RDMA section runs on NIO, with UCX progress threads");
        run(bench, nioCtx, nioClient, List.of(), "nio", quick, warmupMs, durationMs);
      }
    } finally {
      nativeVertx.close().await(30, TimeUnit.SECONDS);
    }
  }

  private static void run(Bench bench, Context ctx, SpokeClient client, List<String> actorOptions, String transport, boolean quick,
                          long warmupMs, long durationMs) throws Exception {
    String rdmaId = "rdma-echo";
    String tcpId = "rdma-tcp-echo";
    List<String> jvm = new ArrayList<>(Bench.ACTOR_JVM);
    jvm.addAll(actorOptions);
    await(client.spawn("BenchEcho", rdmaId, new SpawnOptions().setJvmOptions(jvm)));
    await(client.spawn("BenchEcho", tcpId, new SpawnOptions().setJvmOptions(jvm)));
    try {
      try {
        await(client.initRdma(rdmaId));
      } catch (RdmaUnavailableException e) {
        System.err.println("spoke bench: rdma skipped: " + e.getMessage());
        return;
      }
      Buffer small = Buffer.buffer(new byte[64]);
      Load.Outcome[] both = bench.compare(ctx, () -> client.call(tcpId, BenchActor.ECHO, small),
        () -> client.call(rdmaId, BenchActor.ECHO, small), 1);
      bench.emit(new Metric("rdma_call_sync", both[1].perSecond(), "calls/s", both[0].perSecond(),
        "64 B, 1 outstanding, over UCX (" + transport + "); baseline: the same call over Spoke's TCP path"));

      // Against ucx_perftest: alternate rounds of each (this VM's speed drifts), then compare medians and sums.
      int rounds = quick ? 1 : 3;
      int latencyIterations = quick ? 5_000 : 30_000;
      int bandwidthIterations = quick ? 500 : 3_000;
      long roundMs = Math.max(500, durationMs / rounds);
      Buffer big = Buffer.buffer(new byte[1 << 20]);
      double mib = (1 << 20) / 1e6;
      Supplier<Future<?>> call = () -> client.call(rdmaId, BenchActor.ECHO, small);
      Supplier<Future<?>> sink = () -> client.send(rdmaId, BenchActor.SINK, big, Serializers.BUFFER);
      // The same payload already in registered memory: sent in place, no copy on the client.
      Buffer registered = io.spoke.vertx.rdma.Rdma.start(ctx.owner()).await(30, TimeUnit.SECONDS).buffer(1 << 20);
      registered.appendBytes(new byte[1 << 20]);
      Supplier<Future<?>> sinkRegistered = () -> client.send(rdmaId, BenchActor.SINK, registered, Serializers.BUFFER);
      Load.run(ctx, sink, 8, warmupMs, 0).await(warmupMs + 60_000, TimeUnit.MILLISECONDS);
      double[] sleepLatency = new double[rounds];
      double[] pollLatency = new double[rounds];
      double[] sleepBandwidth = new double[rounds];
      double[] pollBandwidth = new double[rounds];
      Latencies ours = new Latencies();
      long sent = 0;
      double sendSeconds = 0;
      long sentRegistered = 0;
      double registeredSeconds = 0;
      for (int r = 0; r < rounds; r++) {
        PerfTest perf = PerfTest.run("ucp_am_lat", 64, latencyIterations, "-e", "-E", "sleep");
        if (perf == null) {
          return;
        }
        sleepLatency[r] = perf.medianLatencyMicros;
        pollLatency[r] = PerfTest.run("ucp_am_lat", 64, latencyIterations, "-e").medianLatencyMicros;
        ours.addAll(Load.run(ctx, call, 1, 0, roundMs).await(roundMs + 60_000, TimeUnit.MILLISECONDS).latencies);
        sleepBandwidth[r] = PerfTest.run("ucp_am_bw", 1 << 20, bandwidthIterations, "-e", "-E", "sleep").bandwidthMBs;
        pollBandwidth[r] = PerfTest.run("ucp_am_bw", 1 << 20, bandwidthIterations, "-e").bandwidthMBs;
        Load.Outcome streamed = Load.run(ctx, sink, 8, 0, roundMs).await(roundMs + 60_000, TimeUnit.MILLISECONDS);
        sent += streamed.calls;
        sendSeconds += streamed.seconds;
        Load.Outcome inPlace = Load.run(ctx, sinkRegistered, 8, 0, roundMs).await(roundMs + 60_000, TimeUnit.MILLISECONDS);
        sentRegistered += inPlace.calls;
        registeredSeconds += inPlace.seconds;
      }
      double oneWay = ours.percentileMicros(50) / 2;
      bench.emit(new Metric("rdma_latency", oneWay, "us", Latencies.median(sleepLatency),
        "64 B, half a call's round trip, p50; baseline: ucx_perftest ucp_am_lat -e -E sleep (event-driven, as the link), median of "
          + rounds + " rounds alternating with Spoke's"));
      bench.emit(new Metric("rdma_latency_vs_poll", oneWay, "us", Latencies.median(pollLatency),
        "the same against ucx_perftest busy-polling (-E poll), which spends a core per process"));
      double bandwidth = sent / sendSeconds * mib;
      bench.emit(new Metric("rdma_bw_1mib", bandwidth, "MB/s", Latencies.median(sleepBandwidth),
        "1 MiB one-way messages, 8 in flight, from a heap buffer; baseline: ucx_perftest ucp_am_bw -s 1MiB -e -E sleep"));
      bench.emit(new Metric("rdma_bw_1mib_vs_poll", bandwidth, "MB/s", Latencies.median(pollBandwidth),
        "the same against ucx_perftest busy-polling"));
      bench.emit(new Metric("rdma_bw_1mib_registered", sentRegistered / registeredSeconds * mib, "MB/s", Latencies.median(sleepBandwidth),
        "1 MiB one-way messages from a buffer in registered memory (Rdma.buffer), sent in place; baseline: ucp_am_bw -e -E sleep"));
      both = bench.compare(ctx, () -> client.call(tcpId, BenchActor.ECHO, big), () -> client.call(rdmaId, BenchActor.ECHO, big), 1);
      bench.emit(new Metric("rdma_call_1mib", both[1].perSecond() * mib, "MB/s", both[0].perSecond() * mib,
        "1 MiB request and response, sequential, over UCX; baseline: the same over Spoke's TCP path"));
    } finally {
      await(client.stop(rdmaId));
      await(client.stop(tcpId));
    }
  }

  /** One ucx_perftest run: a server and a client process on loopback; its "Final:" line. */
  static final class PerfTest {

    final double medianLatencyMicros;
    final double bandwidthMBs;

    private PerfTest(double medianLatencyMicros, double bandwidthMBs) {
      this.medianLatencyMicros = medianLatencyMicros;
      this.bandwidthMBs = bandwidthMBs;
    }

    /** {@code null} (and a note on stderr) when ucx_perftest is not installed. */
    static PerfTest run(String test, int size, int iterations, String... options) throws IOException, InterruptedException {
      int port = 20_000 + ThreadLocalRandom.current().nextInt(9_000);
      Process server;
      try {
        server = start(List.of("ucx_perftest", "-p", String.valueOf(port)), true);
      } catch (IOException e) {
        System.err.println("spoke bench: ucx_perftest not found (apt-get install ucx-utils); its baselines are skipped");
        return null;
      }
      try {
        Thread.sleep(300);
        List<String> command = new ArrayList<>(List.of("ucx_perftest", "127.0.0.1", "-p", String.valueOf(port), "-t", test,
          "-s", String.valueOf(size), "-n", String.valueOf(iterations)));
        command.addAll(List.of(options));
        Process client = start(command, false);
        String finalLine = null;
        StringBuilder output = new StringBuilder();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line; (line = in.readLine()) != null; ) {
            output.append(line).append('\n');
            if (line.startsWith("Final:")) {
              finalLine = line;
            }
          }
        }
        client.waitFor(60, TimeUnit.SECONDS);
        if (finalLine == null) {
          throw new IllegalStateException("ucx_perftest " + String.join(" ", command) + " printed no result:\n" + output);
        }
        // Final: iterations, latency p50, average, overall (us), bandwidth average, overall (MB/s), rates
        String[] f = finalLine.trim().split("\\s+");
        return new PerfTest(Double.parseDouble(f[2]), Double.parseDouble(f[6]));
      } finally {
        server.destroyForcibly();
        server.waitFor(10, TimeUnit.SECONDS);
      }
    }

    private static Process start(List<String> command, boolean discardOutput) throws IOException {
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
      if (discardOutput) {
        builder.redirectOutput(ProcessBuilder.Redirect.DISCARD);
      }
      builder.environment().put("UCX_LOG_LEVEL", "error");
      return builder.start();
    }
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.await(120, TimeUnit.SECONDS);
  }
}
