// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.AgentVerticle;
import io.spoke.vertx.benchmarks.baseline.EchoClient;
import io.spoke.vertx.benchmarks.baseline.EchoServer;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.hub.HubVerticle;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code ./spoke bench}: starts a hub, an agent and real actor processes, measures each metric and its baseline
 * in the same run, and prints one JSON object per line ({@code metric, value, unit, baseline, ratio}). Results
 * also go to {@code results.jsonl}, the machine to {@code machine.json} and a chart to {@code chart.png} in the
 * output directory.
 *
 * <pre>
 * Bench [--quick] [--out DIR] [--only call,native,rdma,nn,spawn,process,gang,hub,ha,slurm,footprint,jmh]
 * Bench --replot [--out DIR]
 * </pre>
 * System properties for experiments: {@code bench.warmupMs} and {@code bench.durationMs} (per comparison),
 * {@code bench.actorJvm} (extra JVM options of the actors called, e.g. to profile them with JFR) and
 * {@code bench.idleJvm} (of the idle actor whose memory is measured).
 */
public final class Bench {

  static final List<String> ACTOR_JVM = AgentOptions.DEFAULT_ACTOR_JVM_OPTIONS;
  static final Set<String> SECTIONS = new LinkedHashSet<>(List.of("footprint", "call", "native", "rdma", "nn", "spawn", "process", "gang", "hub",
    "ha", "slurm", "jmh"));

  final boolean quick;
  final Path out;
  private final Set<String> only;
  final long warmupMs;
  final long durationMs;
  private final List<Metric> metrics = new ArrayList<>();
  private final PrintStream stdout = System.out;

  Vertx vertx;
  Context context;
  HubVerticle hub;
  SpokeClient client;
  AgentVerticle agent;

  private Bench(boolean quick, Path out, Set<String> only) {
    this.quick = quick;
    this.out = out;
    this.only = only;
    this.warmupMs = Long.getLong("bench.warmupMs", quick ? 500 : 3_000);
    this.durationMs = Long.getLong("bench.durationMs", quick ? 1_000 : 5_000);
  }

  public static void main(String[] args) throws Exception {
    boolean quick = false;
    boolean replot = false;
    Path out = Paths.get("benchmarks/target/bench");
    Set<String> only = SECTIONS;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--quick":
          quick = true;
          break;
        case "--out":
          out = Paths.get(args[++i]);
          break;
        case "--only":
          only = new LinkedHashSet<>(Arrays.asList(args[++i].split(",")));
          if (!SECTIONS.containsAll(only)) {
            System.err.println("spoke bench: --only takes a list of " + String.join(",", SECTIONS));
            System.exit(2);
          }
          break;
        case "--replot":
          replot = true;
          break;
        case "-h":
        case "--help":
          System.out.println("usage: spoke bench [--quick] [--out DIR] [--only " + String.join(",", SECTIONS) + "]\n"
            + "       spoke bench --replot [--out DIR]   (redraws chart.png from results.jsonl and machine.json)");
          return;
        default:
          System.err.println("spoke bench: unknown argument '" + args[i] + "'; try --help");
          System.exit(2);
      }
    }
    Files.createDirectories(out);
    if (replot) {
      List<Metric> saved = new ArrayList<>();
      for (String line : Files.readAllLines(out.resolve("results.jsonl"))) {
        saved.add(Metric.fromJson(new JsonObject(line)));
      }
      Chart.write(saved, new JsonObject(Files.readString(out.resolve("machine.json"))), out.resolve("chart.png"));
      return;
    }
    int status = 1;
    try {
      new Bench(quick, out, only).run();
      status = 0;
    } catch (Throwable e) {
      System.err.println("spoke bench failed: " + e);
      e.printStackTrace();
    }
    System.exit(status);
  }

  private void run() throws Exception {
    JsonObject machine = Machine.describe();
    Files.writeString(out.resolve("machine.json"), machine.encodePrettily());
    System.err.println("spoke bench" + (quick ? " --quick" : "") + " on " + machine.encode());
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    hub = new HubVerticle(new HubOptions().setPort(0));
    await(vertx.deployVerticle(hub));
    // Every run starts without the agent's CDS archive, so the first actor host trains it, as on a fresh node.
    deleteTree(out.resolve("logs").resolve(".spoke-cds"));
    agent = new AgentVerticle(new AgentOptions().setHubPort(hub.actualPort()).setNodeId("bench").setGpus(8)
      .setLogDir(out.resolve("logs").toString()).setWarmPool(WarmPoolBench.POOL));
    await(vertx.deployVerticle(agent));
    await(agent.registered());
    // A client belongs to the context it is created on, and calls made there go straight to the socket: the
    // harness drives calls from that context, as a verticle embedding the client does. Its calls go over loopback
    // TCP, as they would to another host (the echo baselines are TCP); the Unix socket path is measured on its own.
    client = onContext(context, () -> SpokeClient.create(vertx, tcpOnly()));
    try {
      if (only.contains("footprint")) {
        new FootprintBench(this).footprint();
      }
      if (only.contains("call")) {
        calls(vertx, context, client, "", false);
        CallMetricsBench.run(this, context, client);
      }
      if (only.contains("native")) {
        nativeCalls();
      }
      if (only.contains("rdma")) {
        RdmaBench.run(this, context, client, hub.actualPort(), quick, warmupMs, durationMs);
      }
      if (only.contains("nn")) {
        new NnBench(this).nToN();
      }
      if (only.contains("spawn")) {
        SpawnBench spawn = new SpawnBench(this);
        spawn.handshake();
        new WarmPoolBench(this).run(spawn.spawnCold());
      }
      if (only.contains("process")) {
        ProcessBench processes = new ProcessBench(this);
        processes.processLaunch();
        processes.restartToReady();
        processes.spawnDuringStopBurst();
      }
      if (only.contains("gang")) {
        GangBench gang = new GangBench(this);
        gang.gang();
        gang.gangEndToEnd();
      }
      if (only.contains("hub")) {
        HubScale.run(quick, this::emit);
      }
      if (only.contains("ha")) {
        new HaBench(this).run();
      }
      if (only.contains("slurm")) {
        new SlurmBench(this).stepToRanks();
      }
      if (only.contains("jmh")) {
        jmh();
      }
    } finally {
      await(client.close());
      await(vertx.undeploy(agent.deploymentID()));
      vertx.close().await(30, TimeUnit.SECONDS);
    }
    Files.write(out.resolve("results.jsonl"), metrics.stream().map(m -> m.toJson().encode()).collect(Collectors.toList()),
      StandardCharsets.UTF_8);
    Chart.write(metrics, machine, out.resolve("chart.png"));
    System.err.println("spoke bench: " + metrics.size() + " metrics in " + out.resolve("results.jsonl") + ", chart in "
      + out.resolve("chart.png"));
  }

  void emit(Metric metric) {
    metrics.add(metric);
    stdout.println(metric.toJson().encode());
    stdout.flush();
  }

  // ------------------------------------------------------------------ calls

  /** call_sync, call_async and call_1mib against a NetSocket echo server with the same framing, in another process. */
  private void calls(Vertx clientVertx, Context ctx, SpokeClient spoke, String suffix, boolean nativeTransport) throws Exception {
    String actorId = "echo" + suffix.replace('_', '-');
    List<String> actorJvm = new ArrayList<>(nativeTransport ? List.of("-Dspoke.nativeTransport=true") : List.of());
    // -Dbench.actorJvm="options": extra JVM options for the actors called (to profile them, say).
    String extra = System.getProperty("bench.actorJvm", "");
    if (!extra.isBlank()) {
      actorJvm.addAll(List.of(extra.trim().split("\\s+")));
    }
    await(spoke.spawn("BenchEcho", actorId, new SpawnOptions().setJvmOptions(actorJvm)));
    try (Child server = Child.java(ACTOR_JVM, EchoServer.class, nativeTransport ? "native" : "nio")) {
      String[] ready = server.await("port ", 60_000).split(" ");
      if (nativeTransport && !ready[2].equals("native")) {
        throw new IllegalStateException("the echo server could not use the native transport");
      }
      EchoClient echo = await(EchoClient.connect(clientVertx, ctx, Integer.parseInt(ready[1])));
      Buffer small = Buffer.buffer(new byte[64]);
      Supplier<Future<?>> echoSmall = () -> echo.call(small);
      Supplier<Future<?>> spokeSmall = () -> spoke.call(actorId, BenchActor.ECHO, small);

      Load.Outcome[] both = compare(ctx, echoSmall, spokeSmall, 1);
      Load.Outcome base = both[0];
      Load.Outcome ours = both[1];
      emit(new Metric("call_sync" + suffix, ours.perSecond(), "calls/s", base.perSecond(), "64 B, 1 outstanding; baseline: NetSocket echo"));
      emit(new Metric("call_sync" + suffix + "_p50", ours.latencies.percentileMicros(50), "us", base.latencies.percentileMicros(50), null));
      emit(new Metric("call_sync" + suffix + "_p99", ours.latencies.percentileMicros(99), "us", base.latencies.percentileMicros(99), null));
      if (ours.allocatedPerCall >= 0) {
        emit(new Metric("call_sync" + suffix + "_alloc", ours.allocatedPerCall, "B/call", base.allocatedPerCall,
          "heap allocated by the client's event loop per call (Spoke: the whole call path; baseline: the echo client)"));
      }

      both = compare(ctx, echoSmall, spokeSmall, 256);
      base = both[0];
      ours = both[1];
      emit(new Metric("call_async" + suffix, ours.perSecond(), "calls/s", base.perSecond(), "64 B, 256 in flight"));
      emit(new Metric("call_async" + suffix + "_p50", ours.latencies.percentileMicros(50), "us", base.latencies.percentileMicros(50), null));
      emit(new Metric("call_async" + suffix + "_p99", ours.latencies.percentileMicros(99), "us", base.latencies.percentileMicros(99), null));

      Buffer big = Buffer.buffer(new byte[1 << 20]);
      both = compare(ctx, () -> echo.call(big), () -> spoke.call(actorId, BenchActor.ECHO, big), 1);
      base = both[0];
      ours = both[1];
      double mib = (1 << 20) / 1e6;
      emit(new Metric("call_1mib" + suffix, ours.perSecond() * mib, "MB/s", base.perSecond() * mib, "1 MiB request and response, sequential"));
      await(echo.close());
    } finally {
      await(spoke.stop(actorId));
    }
  }

  private void nativeCalls() throws Exception {
    Vertx nativeVertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true));
    try {
      if (!nativeVertx.isNativeTransportEnabled()) {
        System.err.println("spoke bench: native transport unavailable (" + nativeVertx.unavailableNativeTransportCause() + "); skipped");
        return;
      }
      Context ctx = nativeVertx.getOrCreateContext();
      SpokeClient nativeClient = onContext(ctx, () -> SpokeClient.create(nativeVertx, tcpOnly()));
      SpokeClient unixClient = onContext(ctx, () -> SpokeClient.create(nativeVertx, new SpokeClientOptions().setHubPort(hub.actualPort())));
      try {
        calls(nativeVertx, ctx, nativeClient, "_epoll", true);
        unixSockets(nativeVertx, ctx, nativeClient, unixClient);
      } finally {
        await(unixClient.close());
        await(nativeClient.close());
      }
    } finally {
      nativeVertx.close().await(30, TimeUnit.SECONDS);
    }
  }

  private SpokeClientOptions tcpOnly() {
    return new SpokeClientOptions().setHubPort(hub.actualPort()).setLocalSockets(false);
  }

  /**
   * A client and an actor on the same host, through the actor's Unix domain socket (both on the native transport):
   * the echo server over a Unix socket against over loopback TCP (what the path can give at most), Spoke's calls
   * against that echo over a Unix socket (the bar's comparison, on this path), and Spoke over its Unix socket
   * against Spoke over TCP to the same actor (what a user gains). Each pair in alternating rounds.
   */
  private void unixSockets(Vertx nativeVertx, Context ctx, SpokeClient tcpClient, SpokeClient unixClient) throws Exception {
    Path socket = Files.createTempDirectory("spoke-bench-uds").resolve("echo.sock");
    String actorId = "echo-uds";
    ActorInfo actor = await(unixClient.spawn("BenchEcho", actorId, new SpawnOptions().setJvmOptions(List.of("-Dspoke.nativeTransport=true"))))
      .info();
    try (Child tcpServer = Child.java(ACTOR_JVM, EchoServer.class, "native");
         Child udsServer = Child.java(ACTOR_JVM, EchoServer.class, "uds", socket.toString())) {
      SocketAddress path = await(unixClient.actorAddress(actorId));
      if (actor.localSocket() == null || !path.isDomainSocket()) {
        throw new IllegalStateException("the client reaches actor " + actorId + " at " + path + ", not through a Unix socket ("
          + actor.localSocket() + ")");
      }
      int tcpPort = Integer.parseInt(tcpServer.await("port ", 60_000).split(" ")[1]);
      udsServer.await("port ", 60_000);
      EchoClient tcp = await(EchoClient.connect(nativeVertx, ctx, tcpPort));
      EchoClient uds = await(EchoClient.connect(nativeVertx, ctx, SocketAddress.domainSocketAddress(socket.toString())));
      Buffer small = Buffer.buffer(new byte[64]);
      Load.Outcome[] sync = compare(ctx, () -> tcp.call(small), () -> uds.call(small), 1);
      emit(new Metric("echo_uds_sync", sync[1].perSecond(), "calls/s", sync[0].perSecond(),
        "64 B echo over a Unix domain socket; baseline: the same over loopback TCP, both epoll"));
      emit(new Metric("echo_uds_sync_p50", sync[1].latencies.percentileMicros(50), "us", sync[0].latencies.percentileMicros(50), null));
      Load.Outcome[] async = compare(ctx, () -> tcp.call(small), () -> uds.call(small), 256);
      emit(new Metric("echo_uds_async", async[1].perSecond(), "calls/s", async[0].perSecond(), "the same, 256 in flight"));

      Supplier<Future<?>> spokeUnix = () -> unixClient.call(actorId, BenchActor.ECHO, small);
      Supplier<Future<?>> spokeTcp = () -> tcpClient.call(actorId, BenchActor.ECHO, small);
      sync = compare(ctx, () -> uds.call(small), spokeUnix, 1);
      emit(new Metric("call_sync_uds", sync[1].perSecond(), "calls/s", sync[0].perSecond(),
        "64 B, 1 outstanding, through the actor's Unix socket; baseline: the echo over a Unix socket"));
      emit(new Metric("call_sync_uds_p50", sync[1].latencies.percentileMicros(50), "us", sync[0].latencies.percentileMicros(50), null));
      emit(new Metric("call_sync_uds_p99", sync[1].latencies.percentileMicros(99), "us", sync[0].latencies.percentileMicros(99), null));
      async = compare(ctx, () -> uds.call(small), spokeUnix, 256);
      emit(new Metric("call_async_uds", async[1].perSecond(), "calls/s", async[0].perSecond(), "the same, 256 in flight"));
      sync = compare(ctx, spokeTcp, spokeUnix, 1);
      emit(new Metric("call_sync_uds_vs_tcp", sync[1].perSecond(), "calls/s", sync[0].perSecond(),
        "Spoke through the actor's Unix socket; baseline: Spoke over loopback TCP to the same actor"));
      emit(new Metric("call_sync_uds_vs_tcp_p50", sync[1].latencies.percentileMicros(50), "us", sync[0].latencies.percentileMicros(50),
        null));
      await(tcp.close());
      await(uds.close());
    } finally {
      await(unixClient.stop(actorId));
      Files.deleteIfExists(socket);
      Files.deleteIfExists(socket.getParent());
    }
  }

  /**
   * Measures a baseline and Spoke in alternating rounds (this VM's speed drifts over seconds), after warming up
   * both: {baseline, Spoke}, each summed over its rounds.
   */
  Load.Outcome[] compare(Context ctx, Supplier<Future<?>> baseline, Supplier<Future<?>> spoke, int inFlight) throws Exception {
    int rounds = quick ? 1 : 5;
    long roundMs = Math.max(200, durationMs / rounds);
    run(ctx, baseline, inFlight, warmupMs, 0);
    run(ctx, spoke, inFlight, warmupMs, 0);
    long[] calls = new long[2];
    double[] seconds = new double[2];
    double[] allocated = new double[2];
    Latencies[] latencies = {new Latencies(), new Latencies()};
    for (int r = 0; r < rounds; r++) {
      for (int which = 0; which < 2; which++) {
        // Every other round starts with Spoke, so that neither side always runs right after the other.
        int side = (r % 2 == 0) ? which : 1 - which;
        Load.Outcome o = run(ctx, side == 0 ? baseline : spoke, inFlight, 0, roundMs);
        calls[side] += o.calls;
        seconds[side] += o.seconds;
        allocated[side] += o.allocatedPerCall / rounds;
        latencies[side].addAll(o.latencies);
      }
    }
    return new Load.Outcome[] {new Load.Outcome(calls[0], seconds[0], latencies[0], allocated[0]),
      new Load.Outcome(calls[1], seconds[1], latencies[1], allocated[1])};
  }

  Load.Outcome run(Context ctx, Supplier<Future<?>> call, int inFlight, long warmup, long duration) throws Exception {
    return Load.run(ctx, call, inFlight, warmup, duration).await(warmup + duration + 60_000, TimeUnit.MILLISECONDS);
  }

  Load.Outcome measure(Context ctx, Supplier<Future<?>> call, int inFlight) throws Exception {
    return Load.run(ctx, call, inFlight, warmupMs, durationMs).await(warmupMs + durationMs + 60_000, TimeUnit.MILLISECONDS);
  }

  // ------------------------------------------------------------------ spawn

  private static void deleteTree(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path f : files.sorted(java.util.Comparator.reverseOrder()).collect(Collectors.toList())) {
          Files.delete(f);
        }
      }
    }
  }

  // ------------------------------------------------------------------ jmh

  /** The JMH microbenchmarks (framing, serializers, scheduler) in a JVM of their own; their scores become metrics. */
  private void jmh() throws Exception {
    Path result = out.resolve("jmh.json").toAbsolutePath();
    List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-cp",
      System.getProperty("java.class.path"), "org.openjdk.jmh.Main", "-rf", "json", "-rff", result.toString(), "-f", "1"));
    command.addAll(quick ? List.of("-wi", "1", "-w", "500ms", "-i", "1", "-r", "500ms") : List.of("-wi", "3", "-w", "2s", "-i", "5", "-r", "2s"));
    command.add("io.spoke.vertx.benchmarks.jmh");
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.resolve("jmh.log").toFile()).start();
    if (!process.waitFor(quick ? 10 : 30, TimeUnit.MINUTES) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IllegalStateException("JMH failed; see " + out.resolve("jmh.log"));
    }
    for (Object entry : new JsonArray(Files.readString(result))) {
      JsonObject run = (JsonObject) entry;
      String name = run.getString("benchmark").replace("io.spoke.vertx.benchmarks.jmh.", "jmh.");
      JsonObject primary = run.getJsonObject("primaryMetric");
      Object error = primary.getValue("scoreError");
      emit(new Metric(name + params(run), primary.getDouble("score"), primary.getString("scoreUnit"), null,
        error instanceof Number ? "±" + Math.round(((Number) error).doubleValue()) + " (99.9%)" : "one iteration: no error bound"));
    }
  }

  private static String params(JsonObject run) {
    JsonObject params = run.getJsonObject("params");
    if (params == null || params.isEmpty()) {
      return "";
    }
    return params.stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(",", "[", "]"));
  }

  // ------------------------------------------------------------------ helpers

  interface Sample {
    double get() throws Exception;
  }

  static double median(int runs, Sample sample) throws Exception {
    double[] values = new double[runs];
    for (int i = 0; i < runs; i++) {
      values[i] = sample.get();
    }
    return Latencies.median(values);
  }

  static <T> T onContext(Context ctx, Supplier<T> supplier) throws Exception {
    Promise<T> promise = Promise.promise();
    ctx.runOnContext(v -> promise.complete(supplier.get()));
    return await(promise.future());
  }

  static <T> T await(Future<T> future) throws Exception {
    return future.await(180, TimeUnit.SECONDS);
  }
}
