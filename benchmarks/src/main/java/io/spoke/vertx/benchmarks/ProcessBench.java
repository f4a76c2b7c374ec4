package io.spoke.vertx.benchmarks;

import static io.spoke.vertx.benchmarks.Bench.await;

import io.spoke.vertx.client.ManagedProcess;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.Readiness;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
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
    emit(new Metric("process_launch_true_p50", percentile(spoke, 50), "ms", percentile(fork, 50),
      "spawnProcess of /bin/true to ready (at once): placement, tree, log, report; baseline: ProcessBuilder.start() here"));
    emit(new Metric("process_launch_true_p99", percentile(spoke, 99), "ms", percentile(fork, 99), null));

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
    emit(new Metric("process_launch_torch_p50", percentile(spokeTorch, 50), "ms", percentile(forkTorch, 50),
      "spawnProcess of python3 -c 'import torch; print(ready)' to ready (log:^ready); baseline: fork+exec here, reading its output"));
  }

  private static double percentile(double[] values, int p) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }
}
