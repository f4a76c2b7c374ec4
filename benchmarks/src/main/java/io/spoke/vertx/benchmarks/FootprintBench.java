// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import static io.spoke.vertx.benchmarks.Bench.ACTOR_JVM;
import static io.spoke.vertx.benchmarks.Bench.await;
import static io.spoke.vertx.benchmarks.Bench.median;

import io.spoke.vertx.agent.AgentMain;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.hub.HubMain;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What Spoke costs a node: its jars, and the idle memory of an actor host against a bare Vert.x JVM.
 */
final class FootprintBench extends BenchSection {

  FootprintBench(Bench bench) {
    super(bench);
  }

  void footprint() throws Exception {
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
    if (!SpawnBench.hasArchive(archives)) {
      long[] first = idleMemory("idle-first", idleJvm);
      emit(new Metric("actor_idle_rss_first", first[0] / 1024.0, "MB", null, "the node's first actor host, which trains the CDS archive; "
        + "private (anonymous) " + String.format("%.1f", first[1] / 1024.0) + " MB"));
    }
    if (new SpawnBench(bench).ensureArchive()) {
      long[] idle = idleMemory("idle", idleJvm);
      emit(new Metric("actor_idle_rss", idle[0] / 1024.0, "MB", null, "idle actor host after one call, started from the node's CDS "
        + "archive; bar 64 MB; JVM options " + ACTOR_JVM + (idleJvm.isEmpty() ? "" : " + " + idleJvm)));
      emit(new Metric("actor_idle_private", idle[1] / 1024.0, "MB", null, "of which private (anonymous) memory, what each further actor "
        + "on the node adds; the rest is clean pages mapped from files (the JVM's libraries, the class-data archives), shared between processes"));
    }

    double probe = median(quick ? 1 : 3, () -> SpawnBench.probe("vertx"));
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
    ActorHandle idle = await(client.spawn("BenchEcho", actorId, new SpawnOptions().setJvmOptions(jvmOptions).setColdStart(true)));
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

  /** A {@code /proc/PID/status} field's value, in kB. */
  static long statusKb(long pid, String field) throws IOException {
    for (String line : Files.readAllLines(Paths.get("/proc/" + pid + "/status"))) {
      if (line.startsWith(field)) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    throw new IOException("no " + field + " for process " + pid);
  }
}
