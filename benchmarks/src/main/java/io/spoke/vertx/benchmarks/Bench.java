package io.spoke.vertx.benchmarks;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.agent.AgentMain;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.AgentVerticle;
import io.spoke.vertx.benchmarks.baseline.EchoClient;
import io.spoke.vertx.benchmarks.baseline.EchoServer;
import io.spoke.vertx.benchmarks.baseline.StartProbe;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.hub.HubMain;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.hub.HubVerticle;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.fb.Role;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
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
 * Bench [--quick] [--out DIR] [--only call,native,rdma,nn,spawn,gang,hub,footprint,jmh]
 * Bench --replot [--out DIR]
 * </pre>
 * System properties for experiments: {@code bench.warmupMs} and {@code bench.durationMs} (per comparison),
 * {@code bench.actorJvm} (extra JVM options of the actors called, e.g. to profile them with JFR) and
 * {@code bench.idleJvm} (of the idle actor whose memory is measured).
 */
public final class Bench {

  static final List<String> ACTOR_JVM = AgentOptions.DEFAULT_ACTOR_JVM_OPTIONS;
  static final Set<String> SECTIONS = new LinkedHashSet<>(List.of("footprint", "call", "native", "rdma", "nn", "spawn", "gang", "hub",
    "jmh"));

  private final boolean quick;
  private final Path out;
  private final Set<String> only;
  private final long warmupMs;
  private final long durationMs;
  private final List<Metric> metrics = new ArrayList<>();
  private final PrintStream stdout = System.out;

  private Vertx vertx;
  private Context context;
  private HubVerticle hub;
  private SpokeClient client;

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
    AgentVerticle agent = new AgentVerticle(new AgentOptions().setHubPort(hub.actualPort()).setNodeId("bench").setGpus(8)
      .setLogDir(out.resolve("logs").toString()));
    await(vertx.deployVerticle(agent));
    await(agent.registered());
    // A client belongs to the context it is created on, and calls made there go straight to the socket: the
    // harness drives calls from that context, as a verticle embedding the client does. Its calls go over loopback
    // TCP, as they would to another host (the echo baselines are TCP); the Unix socket path is measured on its own.
    client = onContext(context, () -> SpokeClient.create(vertx, tcpOnly()));
    try {
      if (only.contains("footprint")) {
        footprint();
      }
      if (only.contains("call")) {
        calls(vertx, context, client, "", false);
      }
      if (only.contains("native")) {
        nativeCalls();
      }
      if (only.contains("rdma")) {
        RdmaBench.run(this, context, client, hub.actualPort(), quick, warmupMs, durationMs);
      }
      if (only.contains("nn")) {
        nToN();
      }
      if (only.contains("spawn")) {
        handshake();
        spawnCold();
      }
      if (only.contains("gang")) {
        gang();
        gangEndToEnd();
      }
      if (only.contains("hub")) {
        HubScale.run(quick, this::emit);
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

  private Load.Outcome run(Context ctx, Supplier<Future<?>> call, int inFlight, long warmup, long duration) throws Exception {
    return Load.run(ctx, call, inFlight, warmup, duration).await(warmup + duration + 60_000, TimeUnit.MILLISECONDS);
  }

  private Load.Outcome measure(Context ctx, Supplier<Future<?>> call, int inFlight) throws Exception {
    return Load.run(ctx, call, inFlight, warmupMs, durationMs).await(warmupMs + durationMs + 60_000, TimeUnit.MILLISECONDS);
  }

  // ------------------------------------------------------------------ n:n

  /** 4 client processes x 4 actors, 64 calls in flight per client; baseline: the same against 4 echo servers. */
  private void nToN() throws Exception {
    int n = 4;
    List<String> ids = new ArrayList<>();
    List<Child> servers = new ArrayList<>();
    try {
      List<Future<ActorHandle>> spawns = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        ids.add("nn-" + i);
        spawns.add(client.spawn("BenchEcho", "nn-" + i));
        servers.add(Child.java(ACTOR_JVM, EchoServer.class, "nio"));
      }
      await(Future.all(spawns));
      List<String> ports = new ArrayList<>();
      for (Child server : servers) {
        ports.add(server.await("port ", 60_000).split(" ")[1]);
      }
      double base = nClients("echo", "-", String.join(",", ports), n);
      double ours = nClients("spoke", String.valueOf(hub.actualPort()), String.join(",", ids), n);
      emit(new Metric("n_n", ours, "calls/s", base, n + " client processes x " + n + " actors, 64 in flight per client"));
    } finally {
      for (Child server : servers) {
        server.close();
      }
      for (String id : ids) {
        await(client.stop(id));
      }
    }
  }

  private double nClients(String mode, String hubPort, String targets, int n) throws Exception {
    List<Child> clients = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        clients.add(Child.java(ACTOR_JVM, NnClient.class, mode, hubPort, "64", String.valueOf(durationMs), targets));
      }
      for (Child c : clients) {
        c.await("ready", 120_000);
      }
      // Every client warms up until the same instant, then all measure over the same window.
      long startAt = System.currentTimeMillis() + warmupMs;
      for (Child c : clients) {
        c.send("start " + startAt);
      }
      double calls = 0;
      double seconds = 0;
      for (Child c : clients) {
        String[] result = c.await("result ", warmupMs + durationMs + 120_000).split(" ");
        calls += Long.parseLong(result[1]);
        seconds = Math.max(seconds, Double.parseDouble(result[2]));
      }
      return calls / seconds;
    } finally {
      for (Child c : clients) {
        c.close();
      }
    }
  }

  // ------------------------------------------------------------------ spawn

  /**
   * Connection set-up to a hub (challenge, hello, welcome) and close, one at a time: to a hub that requires a
   * cluster token (an HMAC-SHA256 proof each way) against the harness's hub without one, in the same run.
   */
  private void handshake() throws Exception {
    SecurityOptions security = new SecurityOptions().setToken("bench-token-" + Long.toHexString(System.nanoTime()));
    HubVerticle secured = new HubVerticle(new HubOptions().setPort(0).setSecurity(security));
    await(vertx.deployVerticle(secured));
    NetClient net = onContext(context, () -> vertx.createNetClient());
    try {
      ClusterAuth auth = ClusterAuth.of(security.resolveToken());
      // Both warmed up, then alternating rounds; a few thousand connections in all (each leaves a socket in TIME_WAIT).
      Supplier<Future<?>> plain = () -> connectOnce(net, hub.actualPort(), ClusterAuth.NONE);
      Supplier<Future<?>> token = () -> connectOnce(net, secured.actualPort(), auth);
      run(context, plain, 1, 0, quick ? 300 : 1_000);
      run(context, token, 1, 0, quick ? 300 : 1_000);
      long calls = 0;
      long tokenCalls = 0;
      double seconds = 0;
      double tokenSeconds = 0;
      Latencies latencies = new Latencies();
      Latencies tokenLatencies = new Latencies();
      for (int round = 0; round < (quick ? 1 : 3); round++) {
        Load.Outcome a = run(context, plain, 1, 0, quick ? 300 : 500);
        Load.Outcome b = run(context, token, 1, 0, quick ? 300 : 500);
        calls += a.calls;
        seconds += a.seconds;
        latencies.addAll(a.latencies);
        tokenCalls += b.calls;
        tokenSeconds += b.seconds;
        tokenLatencies.addAll(b.latencies);
      }
      emit(new Metric("connect_auth", tokenCalls / tokenSeconds, "connections/s", calls / seconds,
        "connect, authenticate with the cluster token, close, one at a time; baseline: the same to a hub without a token"));
      emit(new Metric("connect_auth_p50", tokenLatencies.percentileMicros(50), "us", latencies.percentileMicros(50), null));
    } finally {
      await(net.close());
      await(vertx.undeploy(secured.deploymentID()));
    }
  }

  private static Future<?> connectOnce(NetClient net, int port, ClusterAuth auth) {
    return Connection.connect(net, SocketAddress.inetSocketAddress(port, "127.0.0.1"),
      ClientHello.of(Role.Client, "bench", auth).withMaxFrameSize(1 << 20).withTimeout(5_000)).compose(Connection::close);
  }

  /**
   * Spawn request to ack and to first call, against a JVM on the same class path that starts Vert.x, opens a
   * server socket and prints a line: without class-data sharing of the application's classes, and with the
   * AppCDS archive the agent keeps for its actor hosts (trained by the first actor host it started).
   */
  private void spawnCold() throws Exception {
    int runs = quick ? 1 : 5;
    double jvm = median(runs, () -> probe("jvm"));
    double probe = median(runs, () -> probe("vertx"));
    emit(new Metric("jvm_start", jvm, "ms", null, "a JVM on the same class path that prints a line"));
    // -Xshare:auto is the JVM's default: the JDK's own archive only; it opts out of the agent's archive.
    double[] plain = spawnRuns("cold", List.of("-Xshare:auto"), runs);
    emit(new Metric("spawn_cold_ack", plain[0], "ms", probe, "no AppCDS; baseline: JVM + Vert.x + server socket + print"));
    emit(new Metric("spawn_cold_first_call", plain[1], "ms", probe, null));

    if (!ensureArchive()) {
      return;
    }
    double[] cds = spawnRuns("cds", List.of(), runs);
    emit(new Metric("spawn_cold_cds_ack", cds[0], "ms", probe, "with the agent's AppCDS archive of the actor host"));
    emit(new Metric("spawn_cold_cds_first_call", cds[1], "ms", probe, null));
  }

  /** Whether the agent's CDS archive exists, after training it with an actor host if it did not. */
  private boolean ensureArchive() throws Exception {
    Path archives = out.resolve("logs").resolve(".spoke-cds");
    if (!hasArchive(archives)) {
      ActorHandle trainer = await(client.spawn("BenchEcho", "cds-train"));
      await(trainer.call(BenchActor.ECHO, Buffer.buffer(new byte[64])));
      await(trainer.stop());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!hasArchive(archives) && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      if (!hasArchive(archives)) {
        System.err.println("spoke bench: the agent published no CDS archive in " + archives + "; measurements that need it are skipped");
        return false;
      }
    }
    return true;
  }

  private static void deleteTree(Path dir) throws IOException {
    if (Files.isDirectory(dir)) {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path f : files.sorted(java.util.Comparator.reverseOrder()).collect(Collectors.toList())) {
          Files.delete(f);
        }
      }
    }
  }

  private static boolean hasArchive(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.anyMatch(f -> f.toString().endsWith(".jsa"));
    }
  }

  private double probe(String mode) throws Exception {
    try (Child child = Child.java(ACTOR_JVM, StartProbe.class, mode)) {
      child.await("ready", 60_000);
      return (System.nanoTime() - child.startedNanos) / 1e6;
    }
  }

  /** Median {ack ms, first call ms} over {@code runs} spawns. */
  private double[] spawnRuns(String prefix, List<String> jvmOptions, int runs) throws Exception {
    double[] ack = new double[runs];
    double[] first = new double[runs];
    for (int i = 0; i < runs; i++) {
      String id = prefix + "-" + i;
      long start = System.nanoTime();
      ActorHandle handle = await(client.spawn("BenchEcho", id, new SpawnOptions().setJvmOptions(jvmOptions)));
      ack[i] = (System.nanoTime() - start) / 1e6;
      await(handle.call(BenchActor.ECHO, Buffer.buffer(new byte[64])));
      first[i] = (System.nanoTime() - start) / 1e6;
      await(handle.stop());
    }
    return new double[] {median(ack), median(first)};
  }

  // ------------------------------------------------------------------ gang

  /**
   * allocate + release pairs through the client API, 64 in flight, on 16 simulated nodes of 8 GPUs (agents in this
   * JVM); then the same against a second hub that keeps a ticket journal ({@code --state-dir}), which fsyncs each
   * allocation before answering it, with the first as its baseline.
   */
  private void gang() throws Exception {
    Load.Outcome memory = gangPairs(hub, client);
    emit(new Metric("gang_alloc_release", memory.perSecond(), "pairs/s", null,
      "64 in flight, 17 nodes of 8 GPUs; bar 10,000/s; Ray placement group create+remove: 765/s"));
    emit(new Metric("gang_alloc_release_p99", memory.latencies.percentileMicros(99), "us", null, null));

    Path stateDir = out.resolve("hub-state");
    HubVerticle journaled = new HubVerticle(new HubOptions().setPort(0).setStateDir(stateDir.toString()));
    await(vertx.deployVerticle(journaled));
    SpokeClient journalClient = onContext(context,
      () -> SpokeClient.create(vertx, new SpokeClientOptions().setHubPort(journaled.actualPort())));
    try {
      Load.Outcome durable = gangPairs(journaled, journalClient);
      emit(new Metric("gang_alloc_release_journal", durable.perSecond(), "pairs/s", memory.perSecond(),
        "the same on 16 nodes with --state-dir: each allocation and release fsynced before it is answered (group commit); "
          + "baseline: no journal, same run"));
      emit(new Metric("gang_alloc_release_journal_p99", durable.latencies.percentileMicros(99), "us",
        memory.latencies.percentileMicros(99), null));
    } finally {
      await(journalClient.close());
      await(vertx.undeploy(journaled.deploymentID()));
    }
  }

  private Load.Outcome gangPairs(HubVerticle target, SpokeClient via) throws Exception {
    List<AgentVerticle> nodes = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      AgentVerticle node = new AgentVerticle(new AgentOptions().setHubPort(target.actualPort()).setNodeId("sim-" + i).setGpus(8)
        .setLogDir(out.resolve("logs").toString()));
      await(vertx.deployVerticle(node));
      await(node.registered());
      nodes.add(node);
    }
    try {
      // A request is a ticket (its id is chosen when it is created): one per allocation.
      return measure(context, () -> via.gangAllocate(new GangRequest().setNodes(1).setActorsPerNode(1).setGpus(1))
        .compose(a -> via.release(a.ticketId())), 64);
    } finally {
      for (AgentVerticle node : nodes) {
        await(vertx.undeploy(node.deploymentID()));
      }
    }
  }

  /** allocate 8 ranks + launch 8 actors + one call on each + release, end to end. */
  private void gangEndToEnd() throws Exception {
    int runs = quick ? 1 : 3;
    double[] total = new double[runs];
    double[] allocate = new double[runs];
    double[] launch = new double[runs];
    for (int r = 0; r < runs; r++) {
      long start = System.nanoTime();
      Allocation allocation = await(client.gangAllocate(new GangRequest().setNodes(1).setActorsPerNode(8).setGpus(1)
        .setPreferredNode("bench")));
      allocate[r] = (System.nanoTime() - start) / 1e6;
      List<Future<ActorHandle>> launches = new ArrayList<>();
      for (int rank = 0; rank < 8; rank++) {
        launches.add(client.launch(allocation.ticketId(), rank, "BenchEcho", "g" + r + "-rank-" + rank));
      }
      List<ActorHandle> handles = await(Future.all(launches)).list();
      launch[r] = (System.nanoTime() - start) / 1e6;
      await(Future.all(handles.stream().map(h -> h.call(BenchActor.ECHO, Buffer.buffer(new byte[64]))).collect(Collectors.toList())));
      await(client.release(allocation.ticketId()));
      total[r] = (System.nanoTime() - start) / 1e6;
    }
    emit(new Metric("gang_e2e_8", median(total), "ms", null, String.format("allocate %.1f ms, all 8 launched at %.0f ms, then one call each and release",
      median(allocate), median(launch))));
  }

  // ------------------------------------------------------------------ footprint

  private void footprint() throws Exception {
    List<Path> classpath = Arrays.stream(System.getProperty("java.class.path").split(java.io.File.pathSeparator))
      .map(Paths::get).collect(Collectors.toList());
    long own = 0;
    List<String> names = new ArrayList<>();
    for (Path jar : classpath) {
      String name = jar.getFileName().toString();
      if (name.startsWith("spoke-vertx-") && name.endsWith(".jar") && !name.startsWith("spoke-vertx-benchmarks")) {
        own += Files.size(jar);
        names.add(name.replaceAll("-[0-9].*", ""));
      }
    }
    emit(new Metric("jars_own", own / 1e6, "MB", null, String.join(" + ", names) + "; bar under 1 MB"));
    String distribution = System.getProperty("spoke.distribution");
    if (distribution != null && Files.isDirectory(Paths.get(distribution))) {
      try (Stream<Path> files = Files.list(Paths.get(distribution))) {
        List<Path> jars = files.filter(f -> f.toString().endsWith(".jar")).collect(Collectors.toList());
        long size = 0;
        for (Path jar : jars) {
          size += Files.size(jar);
        }
        emit(new Metric("distribution", size / 1e6, "MB", null, jars.size() + " jars in " + distribution + " (what ./spoke runs)"));
      }
    }
    // The first actor host of a node loads every class itself and writes the node's CDS archive when it exits; every
    // later one starts from that archive. Both are measured: the second is what a node's actors cost.
    String extra = System.getProperty("bench.idleJvm", "").trim();
    List<String> idleJvm = extra.isEmpty() ? List.of() : List.of(extra.split("\\s+|,(?=-)"));
    Path archives = out.resolve("logs").resolve(".spoke-cds");
    if (!hasArchive(archives)) {
      long[] first = idleMemory("idle-first", idleJvm);
      emit(new Metric("actor_idle_rss_first", first[0] / 1024.0, "MB", null, "the node's first actor host, which trains the CDS archive; "
        + "private (anonymous) " + String.format("%.1f", first[1] / 1024.0) + " MB"));
    }
    if (ensureArchive()) {
      long[] idle = idleMemory("idle", idleJvm);
      emit(new Metric("actor_idle_rss", idle[0] / 1024.0, "MB", null, "idle actor host after one call, started from the node's CDS "
        + "archive; bar 64 MB; JVM options " + ACTOR_JVM + (idleJvm.isEmpty() ? "" : " + " + idleJvm)));
      emit(new Metric("actor_idle_private", idle[1] / 1024.0, "MB", null, "of which private (anonymous) memory, what each further actor "
        + "on the node adds; the rest is clean pages mapped from files (the JVM's libraries, the class-data archives), shared between processes"));
    }

    double probe = median(quick ? 1 : 3, () -> probe("vertx"));
    long hubStart = System.nanoTime();
    try (Child hubProcess = Child.java(List.of(), HubMain.class, "--port", "0")) {
      String line = hubProcess.await("Spoke hub listening on", 60_000);
      emit(new Metric("hub_start", (System.nanoTime() - hubStart) / 1e6, "ms", probe, "process start to listening"));
      String port = line.substring(line.lastIndexOf(':') + 1).trim();
      long agentStart = System.nanoTime();
      try (Child agentProcess = Child.java(List.of(), AgentMain.class, "--hub", "127.0.0.1:" + port, "--gpus", "8", "--log-dir",
        out.resolve("logs").toString())) {
        agentProcess.await("Spoke agent", 60_000);
        emit(new Metric("agent_start", (System.nanoTime() - agentStart) / 1e6, "ms", probe, "process start to registered with the hub"));
      }
    }
  }

  /**
   * Spawns an actor, calls it once, lets it idle, and reads its resident and anonymous memory (kB): the median of
   * five samples 200 ms apart, since a JIT compilation still running takes a few MB for a moment.
   */
  private long[] idleMemory(String actorId, List<String> jvmOptions) throws Exception {
    ActorHandle idle = await(client.spawn("BenchEcho", actorId, new SpawnOptions().setJvmOptions(jvmOptions)));
    try {
      await(idle.call(BenchActor.ECHO, Buffer.buffer(new byte[64])));
      Thread.sleep(quick ? 1_000 : 3_000);
      long[] rss = new long[5];
      long[] anon = new long[5];
      for (int i = 0; i < rss.length; i++) {
        rss[i] = statusKb(idle.info().pid(), "VmRSS:");
        anon[i] = statusKb(idle.info().pid(), "RssAnon:");
        Thread.sleep(200);
      }
      java.util.Arrays.sort(rss);
      java.util.Arrays.sort(anon);
      return new long[] {rss[2], anon[2]};
    } finally {
      await(idle.stop());
    }
  }

  private static long statusKb(long pid, String field) throws IOException {
    for (String line : Files.readAllLines(Paths.get("/proc/" + pid + "/status"))) {
      if (line.startsWith(field)) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IOException("no " + field + " for process " + pid);
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

  private static double median(int runs, Sample sample) throws Exception {
    double[] values = new double[runs];
    for (int i = 0; i < runs; i++) {
      values[i] = sample.get();
    }
    return median(values);
  }

  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static <T> T onContext(Context ctx, Supplier<T> supplier) throws Exception {
    Promise<T> promise = Promise.promise();
    ctx.runOnContext(v -> promise.complete(supplier.get()));
    return await(promise.future());
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.await(180, TimeUnit.SECONDS);
  }
}
