// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import static io.spoke.vertx.benchmarks.Bench.await;

import io.spoke.vertx.client.ManagedProcess;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.Readiness;
import io.spoke.vertx.client.RestartPolicy;
import io.vertx.core.Future;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Managed processes: from {@code spawnProcess} to ready, against starting the same command with {@code ProcessBuilder}
 * from this JVM (fork and exec, nothing else), in the same run. Once for {@code /bin/true} ready at once (what Spoke's
 * placement, tree, log, ports and report to the hub cost), once for a Python that imports torch and then says it is
 * ready (what a real rank's start costs, where Spoke's part is small).
 */
final class ProcessBench extends BenchSection {

  /** The Python with torch, Debian's. */
  static final String PYTHON = "/usr/bin/python3";

  ProcessBench(Bench bench) {
    super(bench);
  }

  void processLaunch() throws Exception {
    int runs = quick ? 10 : 40;
    List<String> trueCommand = List.of("/bin/true");
    double[] spoke = new double[runs];
    double[] fork = new double[runs];
    for (int i = -3; i < runs; i++) {
      long t0 = System.nanoTime();
      ManagedProcess p = await(client.spawnProcess("bench-true-" + (i + 3), new ProcessSpec(trueCommand)));
      double spokeMs = (System.nanoTime() - t0) / 1e6;
      await(p.exit());
      long t1 = System.nanoTime();
      Process plain = new ProcessBuilder(trueCommand).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      double forkMs = (System.nanoTime() - t1) / 1e6;
      plain.waitFor(10, TimeUnit.SECONDS);
      if (i >= 0) {
        spoke[i] = spokeMs;
        fork[i] = forkMs;
      }
    }
    emit(new Metric("process_launch_true_p50", Latencies.percentile(spoke, 50), "ms", Latencies.percentile(fork, 50),
      "spawnProcess of /bin/true to ready (at once): placement, tree, log, report; baseline: ProcessBuilder.start() here"));
    emit(new Metric("process_launch_true_p99", Latencies.percentile(spoke, 99), "ms", Latencies.percentile(fork, 99), null));

    if (!new File(PYTHON).canExecute() || new ProcessBuilder(PYTHON, "-c", "import torch").start().waitFor() != 0) {
      System.err.println("spoke bench: no torch for " + PYTHON + " (apt-get install python3-torch): process_launch_torch skipped");
      return;
    }
    int torchRuns = quick ? 2 : 5;
    List<String> torch = List.of(PYTHON, "-c", "import torch; print('ready', flush=True); import time; time.sleep(60)");
    double[] spokeTorch = new double[torchRuns];
    double[] forkTorch = new double[torchRuns];
    for (int i = -1; i < torchRuns; i++) {
      long t0 = System.nanoTime();
      ManagedProcess p = await(client.spawnProcess("bench-torch-" + (i + 1), new ProcessSpec(torch).setReady(Readiness.log("^ready"))));
      double spokeMs = (System.nanoTime() - t0) / 1e6;
      await(p.stop());
      long t1 = System.nanoTime();
      Process plain = new ProcessBuilder(torch).redirectErrorStream(true).start();
      try (BufferedReader out = new BufferedReader(new InputStreamReader(plain.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line = out.readLine(); line != null && !line.startsWith("ready"); line = out.readLine()) {
          // the import's output, if any
        }
        double forkMs = (System.nanoTime() - t1) / 1e6;
        if (i >= 0) {
          spokeTorch[i] = spokeMs;
          forkTorch[i] = forkMs;
        }
      } finally {
        plain.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
    emit(new Metric("process_launch_torch_p50", Latencies.percentile(spokeTorch, 50), "ms", Latencies.percentile(forkTorch, 50),
      "spawnProcess of python3 -c 'import torch; print(ready)' to ready (log:^ready); baseline: fork+exec here, reading its output"));
  }

  /**
   * From a SIGKILL to the restarted instance answering: a Java actor (with the agent's CDS archive, trained by the
   * spawn section or by its own first start) to its first call completed on the new instance, and a process to the
   * hub reporting it running again; no back-off. Baseline: a fresh spawn of the same, in the same run.
   */
  void restartToReady() throws Exception {
    int runs = quick ? 3 : 8;
    RestartPolicy policy = RestartPolicy.onFailure(runs + 1).withBackoffMs(0);
    io.spoke.vertx.client.ActorHandle actor = await(client.spawn("BenchEcho", "bench-restart",
      new io.spoke.vertx.client.SpawnOptions().setRestart(policy)));
    io.vertx.core.buffer.Buffer payload = io.vertx.core.buffer.Buffer.buffer(new byte[64]);
    await(actor.call(BenchActor.ECHO, payload));
    double[] actorMs = new double[runs];
    for (int i = 0; i < runs; i++) {
      long pid = await(client.resolve("bench-restart")).pid();
      long t0 = System.nanoTime();
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      while (true) {
        try {
          await(actor.call(BenchActor.ECHO, payload));
          if (await(client.resolve("bench-restart")).pid() != pid) {
            break;
          }
        } catch (Exception deadOrRestarting) {
          // the call that met the death, or the old endpoint: the next one waits for the new instance
        }
      }
      actorMs[i] = (System.nanoTime() - t0) / 1e6;
    }
    await(actor.stop());
    long s0 = System.nanoTime();
    // Cold, as a restart is: a restarted instance goes on in its actor's log, which a warm host cannot.
    io.spoke.vertx.client.ActorHandle fresh = await(client.spawn("BenchEcho", "bench-fresh",
      new io.spoke.vertx.client.SpawnOptions().setColdStart(true)));
    await(fresh.call(BenchActor.ECHO, payload));
    double freshMs = (System.nanoTime() - s0) / 1e6;
    await(fresh.stop());
    emit(new Metric("restart_to_ready_actor_p50", Latencies.percentile(actorMs, 50), "ms", freshMs,
      "SIGKILL to the first call answered by the restarted instance (CDS, no back-off); baseline: a fresh spawn to its first call"));

    ManagedProcess process = await(client.spawnProcess("bench-restart-p", new ProcessSpec(List.of("sleep", "600")),
      new io.spoke.vertx.client.SpawnOptions().setRestart(policy)));
    double[] processMs = new double[runs];
    for (int i = 0; i < runs; i++) {
      long pid = await(client.resolve("bench-restart-p")).pid();
      long t0 = System.nanoTime();
      ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      while (true) {
        io.spoke.vertx.client.ActorInfo now = await(client.resolve("bench-restart-p"));
        if (now.state() == io.spoke.vertx.client.ActorState.RUNNING && now.pid() != pid) {
          break;
        }
        Thread.sleep(1);
      }
      processMs[i] = (System.nanoTime() - t0) / 1e6;
    }
    await(process.stop());
    long p0 = System.nanoTime();
    ManagedProcess freshProcess = await(client.spawnProcess("bench-fresh-p", new ProcessSpec(List.of("sleep", "600"))));
    double freshProcessMs = (System.nanoTime() - p0) / 1e6;
    await(freshProcess.stop());
    emit(new Metric("restart_to_ready_process_p50", Latencies.percentile(processMs, 50), "ms", freshProcessMs,
      "SIGKILL to the hub reporting the restarted sleep running (no back-off); baseline: a fresh spawnProcess of it"));
  }

  /**
   * What a burst of stops costs the spawns made meanwhile on the same agent: the p99 of spawnProcess of a sleep to
   * ready, made one after another while 50 processes stop (half of them ignore SIGTERM and are killed, tree and all,
   * after a 200 ms grace), against the same spawns on an idle agent in the same run.
   */
  void spawnDuringStopBurst() throws Exception {
    int spawns = quick ? 10 : 30;
    int stops = 50;
    ProcessSpec sleeper = new ProcessSpec(List.of("sleep", "600"));
    double[] idle = spawnSleepers("bench-idle-", spawns, sleeper);
    List<ManagedProcess> stopping = new ArrayList<>();
    for (int i = 0; i < stops; i++) {
      ProcessSpec spec = i % 2 == 0 ? new ProcessSpec(List.of("sh", "-c", "trap '' TERM; sleep 600 & wait; wait")).setStopGraceMs(200)
        : sleeper;
      stopping.add(await(client.spawnProcess("bench-burst-" + i, spec)));
    }
    List<Future<?>> stopped = new ArrayList<>();
    for (ManagedProcess p : stopping) {
      stopped.add(p.stop());
    }
    double[] busy = spawnSleepers("bench-busy-", spawns, sleeper);
    await(Future.all(stopped));
    emit(new Metric("spawn_during_stop_burst_p99", Latencies.percentile(busy, 99), "ms", Latencies.percentile(idle, 99),
      "spawnProcess of sleep to ready while 50 processes stop (25 after a 200 ms grace and a tree kill); baseline: on an idle agent"));
    emit(new Metric("spawn_during_stop_burst_p50", Latencies.percentile(busy, 50), "ms", Latencies.percentile(idle, 50), null));
  }

  /** {@code n} spawns of {@code spec}, one after another: each one's time to ready, in ms; then stops them all. */
  private double[] spawnSleepers(String prefix, int n, ProcessSpec spec) throws Exception {
    double[] ms = new double[n];
    List<Future<?>> stops = new ArrayList<>();
    List<ManagedProcess> started = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      started.add(await(client.spawnProcess(prefix + i, spec)));
      ms[i] = (System.nanoTime() - t0) / 1e6;
    }
    for (ManagedProcess p : started) {
      stops.add(p.stop());
    }
    await(Future.all(stops));
    return ms;
  }
}
