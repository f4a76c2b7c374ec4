// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.run;

import static io.spoke.vertx.test.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A real Slurm cluster for one test class ({@code scripts/slurm-test-cluster.sh}, as root), and what its tests do with
 * it: Slurm commands with its configuration and the cluster's token, {@code spoke run}'s JVM as srun starts it on each
 * node, and the processes of a job as {@code /proc} shows them.
 */
final class SlurmKit {

  static final Path SCRIPT = Paths.get("..", "scripts", "slurm-test-cluster.sh").toAbsolutePath().normalize();

  private final Path slurmDir;
  private final ProcessCleanup processes;
  private boolean started;

  record Result(int status, String out, String err) {
  }

  SlurmKit(Path slurmDir, ProcessCleanup processes) {
    this.slurmDir = slurmDir;
    this.processes = processes;
  }

  /**
   * Starts slurmctld and {@code nodes} slurmd with {@code gpus} GPUs each: nodes' addresses and network namespaces as
   * the script takes them (comma-separated, one per node), Slurm's process tracking plugin {@code proctrack}, and
   * with {@code accounting} a MariaDB and slurmdbd, for sacct.
   */
  SlurmKit start(int nodes, int gpus, String addresses, String namespaces, String proctrack, boolean accounting) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(SCRIPT.toString(), "start", slurmDir.toString(), String.valueOf(nodes), String.valueOf(gpus),
      addresses, namespaces).redirectErrorStream(true);
    builder.environment().put("SLURM_PROCTRACK", proctrack);
    if (accounting) {
      builder.environment().put("SLURM_ACCOUNTING", "1");
    }
    started = true;
    Process start = builder.start();
    String output = new String(start.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(start.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(start.exitValue()).as(output).isZero();
    return this;
  }

  void stop() throws Exception {
    if (started) {
      new ProcessBuilder(SCRIPT.toString(), "stop", slurmDir.toString()).inheritIO().start().waitFor(60, TimeUnit.SECONDS);
    }
  }

  Path dir() {
    return slurmDir;
  }

  /** A Slurm command with this cluster's configuration, in {@code dir}. */
  ProcessBuilder command(Path dir, List<String> command) {
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
      .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    builder.environment().put("SLURM_CONF", slurmDir.resolve("slurm.conf").toString());
    builder.environment().put("SPOKE_TOKEN", TestCluster.TOKEN);
    return builder;
  }

  Process slurm(Path dir, String... command) throws IOException {
    return processes.track(command(dir, List.of(command)).redirectErrorStream(true).start());
  }

  /** Cancels every job of this cluster (after each test). */
  void cancelAll(Path dir) throws Exception {
    if (started) {
      slurm(dir, "scancel", "--user=root").waitFor(30, TimeUnit.SECONDS);
    }
  }

  /** Starts {@code command} in {@code dir}, its output in {@code name.out} and {@code name.err}. */
  Process start(Path dir, List<String> command, String name) throws IOException {
    return processes.track(command(dir, command).redirectOutput(dir.resolve(name + ".out").toFile())
      .redirectError(dir.resolve(name + ".err").toFile()).start());
  }

  static Result finish(Path dir, Process process, String name) throws Exception {
    assertThat(process.waitFor(180, TimeUnit.SECONDS)).as(name + " finished").isTrue();
    return new Result(process.exitValue(), Files.readString(dir.resolve(name + ".out")), Files.readString(dir.resolve(name + ".err")));
  }

  Result run(Path dir, List<String> command) throws Exception {
    String name = "run-" + System.nanoTime();
    return finish(dir, start(dir, command, name), name);
  }

  /** {@code spoke run}'s JVM, as srun or an sbatch script starts it on each node. */
  static List<String> spokeRun(String... args) {
    return TestCluster.java(List.of("-Dspoke.log.level=warn"), RunMain.class.getName(), args).command();
  }

  static List<String> srun(List<String> srunOptions, String... runArgs) {
    List<String> command = new ArrayList<>(List.of("srun"));
    command.addAll(srunOptions);
    command.addAll(spokeRun(runArgs));
    return command;
  }

  /** Every live process whose environment holds all of {@code wanted} ({@code SLURM_JOB_ID=7}, say). */
  static List<Long> processesWith(String... wanted) {
    List<String> entries = List.of(wanted);
    return ProcessHandle.allProcesses().filter(p -> {
      try {
        byte[] environ = Files.readAllBytes(Paths.get("/proc", String.valueOf(p.pid()), "environ"));
        return List.of(new String(environ, StandardCharsets.UTF_8).split("\0")).containsAll(entries);
      } catch (IOException | SecurityException gone) {
        return false; // exited meanwhile, or not ours to read
      }
    }).map(ProcessHandle::pid).collect(Collectors.toList());
  }

  /** Every live process of Slurm job {@code jobId}: what Slurm started, and theirs. */
  static List<Long> jobProcesses(String jobId) {
    return processesWith("SLURM_JOB_ID=" + jobId);
  }

  /**
   * Runs 2 x 2 ranks that trap SIGTERM on {@code nodeList} (two nodes), scancels the job once every rank runs, and
   * checks that within KillWait (10 s in these clusters) + 1 s no process of the job is left and every rank got its
   * stop signal.
   */
  void scancelLeavesNothing(Path dir, String nodeList) throws Exception {
    String rank = "trap 'echo stopped > " + dir + "/stopped-$RANK; exit 0' TERM; echo $SLURM_JOB_ID > " + dir
      + "/job-$RANK.tmp; mv " + dir + "/job-$RANK.tmp " + dir + "/job-$RANK; while true; do sleep 0.1; done";
    Process job = start(dir, srun(List.of("-N2", "--nodelist=" + nodeList, "--ntasks-per-node=1", "--gres=gpu:2"), "--slurm",
      "--per-node", "2", "--", "sh", "-c", rank), "cancelled");
    for (int r = 0; r < 4; r++) {
      Path marker = dir.resolve("job-" + r);
      until("rank " + r + " to run", 120, TimeUnit.SECONDS, () -> Files.exists(marker));
    }
    String jobId = Files.readString(dir.resolve("job-0")).strip();
    assertThat(jobProcesses(jobId)).as("the job's processes while it runs").isNotEmpty();
    long cancelled = System.nanoTime();
    assertThat(slurm(dir, "scancel", jobId).waitFor(30, TimeUnit.SECONDS)).isTrue();
    until("no process of job " + jobId + " left", 11, TimeUnit.SECONDS, () -> jobProcesses(jobId).isEmpty());
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cancelled)).isLessThan(11_000);
    for (int r = 0; r < 4; r++) {
      assertThat(dir.resolve("stopped-" + r)).as("rank " + r + " got its stop signal").exists();
    }
    assertThat(job.waitFor(30, TimeUnit.SECONDS)).as("srun ends").isTrue();
  }

  static String quote(String arg) {
    return "'" + arg.replace("'", "'\\''") + "'";
  }
}
