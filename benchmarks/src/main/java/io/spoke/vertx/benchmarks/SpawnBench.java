// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import static io.spoke.vertx.benchmarks.Bench.ACTOR_JVM;
import static io.spoke.vertx.benchmarks.Bench.await;
import static io.spoke.vertx.benchmarks.Bench.median;
import static io.spoke.vertx.benchmarks.Latencies.median;
import static io.spoke.vertx.benchmarks.Bench.onContext;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.benchmarks.baseline.StartProbe;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.hub.HubVerticle;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.fb.Role;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.SocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Connection set-up with and without the cluster token, and spawns: a cold JVM per actor, without and with the agent's AppCDS
 * archive, against a JVM that starts Vert.x and a server socket.
 */
final class SpawnBench extends BenchSection {

  SpawnBench(Bench bench) {
    super(bench);
  }

  /**
   * Connection set-up to a hub (challenge, hello, welcome) and close, one at a time: to a hub that requires a
   * cluster token (an HMAC-SHA256 proof each way) against the harness's hub without one, in the same run.
   */
  void handshake() throws Exception {
    SecurityOptions security = new SecurityOptions().setToken("bench-token-" + Long.toHexString(System.nanoTime()));
    HubVerticle secured = new HubVerticle(new HubOptions().setPort(0).setSecurity(security));
    await(vertx.deployVerticle(secured));
    NetClient net = onContext(context, () -> vertx.createNetClient());
    try {
      ClusterAuth auth = ClusterAuth.of(security.resolveToken());
      // Both warmed up, then alternating rounds; a few thousand connections in all (each leaves a socket in TIME_WAIT).
      Supplier<Future<?>> plain = () -> connectOnce(net, hub.actualPort(), ClusterAuth.NONE);
      Supplier<Future<?>> token = () -> connectOnce(net, secured.actualPort(), auth);
      bench.run(context, plain, 1, 0, quick ? 300 : 1_000);
      bench.run(context, token, 1, 0, quick ? 300 : 1_000);
      long calls = 0;
      long tokenCalls = 0;
      double seconds = 0;
      double tokenSeconds = 0;
      Latencies latencies = new Latencies();
      Latencies tokenLatencies = new Latencies();
      for (int round = 0; round < (quick ? 1 : 3); round++) {
        Load.Outcome a = bench.run(context, plain, 1, 0, quick ? 300 : 500);
        Load.Outcome b = bench.run(context, token, 1, 0, quick ? 300 : 500);
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
   * AppCDS archive the agent keeps for its actor hosts (trained by the first actor host it started). Each asks for a
   * cold start: the agent's warm pool is measured on its own ({@link WarmPoolBench}). Returns the median ack of the
   * best cold start here (with the archive when there is one).
   */
  double spawnCold() throws Exception {
    int runs = quick ? 1 : 5;
    double jvm = median(runs, () -> probe("jvm"));
    double probe = median(runs, () -> probe("vertx"));
    emit(new Metric("jvm_start", jvm, "ms", null, "a JVM on the same class path that prints a line"));
    // -Xshare:auto is the JVM's default: the JDK's own archive only; it opts out of the agent's archive.
    double[] plain = spawnRuns("cold", List.of("-Xshare:auto"), runs);
    emit(new Metric("spawn_cold_ack", plain[0], "ms", probe, "no AppCDS; baseline: JVM + Vert.x + server socket + print"));
    emit(new Metric("spawn_cold_first_call", plain[1], "ms", probe, null));

    if (!ensureArchive()) {
      return plain[0];
    }
    double[] cds = spawnRuns("cds", List.of(), runs);
    emit(new Metric("spawn_cold_cds_ack", cds[0], "ms", probe, "with the agent's AppCDS archive of the actor host"));
    emit(new Metric("spawn_cold_cds_first_call", cds[1], "ms", probe, null));
    return cds[0];
  }

  /** Whether the agent's CDS archive exists, after training it with an actor host if it did not. */
  boolean ensureArchive() throws Exception {
    Path archives = out.resolve("logs").resolve(".spoke-cds");
    if (!hasArchive(archives)) {
      ActorHandle trainer = await(client.spawn("BenchEcho", "cds-train", new SpawnOptions().setColdStart(true)));
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

  static boolean hasArchive(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.anyMatch(f -> f.toString().endsWith(".jsa"));
    }
  }

  /** Milliseconds from start to ready of a JVM that prints a line ({@code jvm}) or starts Vert.x and a server ({@code vertx}). */
  static double probe(String mode) throws Exception {
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
      ActorHandle handle = await(client.spawn("BenchEcho", id, new SpawnOptions().setJvmOptions(jvmOptions).setColdStart(true)));
      ack[i] = (System.nanoTime() - start) / 1e6;
      await(handle.call(BenchActor.ECHO, Buffer.buffer(new byte[64])));
      first[i] = (System.nanoTime() - start) / 1e6;
      await(handle.stop());
    }
    return new double[] {median(ack), median(first)};
  }
}
