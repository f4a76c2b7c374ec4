// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code spoke run --slurm} on a real Slurm ({@code scripts/slurm-test-cluster.sh}: slurmctld and two slurmd on this
 * machine, 4 GRES GPUs each): from {@code srun} starting to every rank of a 2 x 2 gang running, against {@code srun
 * -N2 true} start to end in the same run. Needs root and Debian's slurm-wlm and munge; skipped otherwise, saying so.
 */
final class SlurmBench extends BenchSection {

  SlurmBench(Bench bench) {
    super(bench);
  }

  void stepToRanks() throws Exception {
    Path kit = Paths.get("scripts", "slurm-test-cluster.sh").toAbsolutePath();
    String why = !"root".equals(System.getProperty("user.name")) ? "slurmd runs as root"
      : !Files.isExecutable(Paths.get("/usr/sbin/slurmctld")) ? "Slurm is not installed (apt-get install slurm-wlm munge)"
      : !Files.isExecutable(kit) ? "run it from the checkout (" + kit + " is missing)" : null;
    if (why != null) {
      System.err.println("spoke bench: slurm skipped: " + why);
      return;
    }
    Path dir = Files.createTempDirectory("spoke-bench-slurm");
    Path cluster = dir.resolve("slurm");
    Process start = new ProcessBuilder(kit.toString(), "start", cluster.toString(), "2", "4").redirectErrorStream(true).start();
    String started = new String(start.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!start.waitFor(60, TimeUnit.SECONDS) || start.exitValue() != 0) {
      throw new IllegalStateException("the Slurm test cluster did not start: " + started);
    }
    try {
      int runs = quick ? 3 : 10;
      double[] bare = new double[runs];
      double[] spoke = new double[runs];
      List<String> run = new ArrayList<>(List.of("srun", "-N2", "--ntasks-per-node=1", "--gres=gpu:2"));
      run.addAll(spokeRun());
      run.addAll(List.of("--slurm", "--per-node", "2", "--", "sh", "-c", "date +%s%N > " + dir + "/started-$RANK"));
      for (int i = -1; i < runs; i++) {
        long t0 = System.nanoTime();
        srun(cluster, List.of("srun", "-N2", "--ntasks-per-node=1", "true"));
        double bareMs = (System.nanoTime() - t0) / 1e6;
        Instant s0 = Instant.now();
        srun(cluster, run);
        long last = 0;
        for (int rank = 0; rank < 4; rank++) {
          Path marker = dir.resolve("started-" + rank);
          last = Math.max(last, Long.parseLong(Files.readString(marker).strip()));
          Files.delete(marker);
        }
        double spokeMs = (last - (s0.getEpochSecond() * 1_000_000_000L + s0.getNano())) / 1e6;
        if (i >= 0) {
          bare[i] = bareMs;
          spoke[i] = spokeMs;
        }
      }
      emit(new Metric("slurm_step_to_ranks_p50", Latencies.percentile(spoke, 50), "ms", Latencies.percentile(bare, 50),
        "srun -N2 of ./spoke run --slurm --per-node 2 (a JVM per node from the launcher, hub and agents, a 2 x 2 gang) to its last "
          + "rank running; "
          + "baseline: srun -N2 true, start to end"));
    } finally {
      new ProcessBuilder(kit.toString(), "stop", cluster.toString()).inheritIO().start().waitFor(60, TimeUnit.SECONDS);
    }
  }

  /** {@code ./spoke run}, as a user starts it (its JVM options and class-data archive included). */
  private static List<String> spokeRun() {
    Path launcher = Paths.get("spoke").toAbsolutePath();
    if (!Files.isExecutable(launcher)) {
      throw new IllegalStateException("run the bench from the checkout: " + launcher + " is missing");
    }
    return List.of(launcher.toString(), "run");
  }

  private static void srun(Path cluster, List<String> command) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    Map<String, String> env = builder.environment();
    env.put("SLURM_CONF", cluster.resolve("slurm.conf").toString());
    byte[] secret = new byte[24];
    new SecureRandom().nextBytes(secret);
    env.put("SPOKE_TOKEN", Base64.getUrlEncoder().withoutPadding().encodeToString(secret));
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
      process.destroyForcibly();
      throw new IllegalStateException(String.join(" ", command.subList(0, 4)) + " failed: " + output);
    }
  }
}
