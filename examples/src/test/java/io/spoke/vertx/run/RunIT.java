// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.run;

import static io.spoke.vertx.test.Await.await;
import static io.spoke.vertx.test.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code spoke run} as a user runs it, in a JVM of its own: on an embedded cluster and on a hub with an agent; rank
 * output, exit statuses, a failing rank, detached runs, a killed run, bad command lines, and a real torch.distributed
 * all-reduce.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class RunIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);

  @TempDir
  Path dir;

  record Result(int status, String out, String err) {
  }

  private Result run(String... args) throws Exception {
    Path out = dir.resolve("out-" + System.nanoTime() + ".txt");
    Path err = dir.resolve("err-" + System.nanoTime() + ".txt");
    Process run = processes.track(TestCluster.java(List.of("-Dspoke.log.level=warn"), RunMain.class.getName(), args)
      .redirectOutput(out.toFile()).redirectError(err.toFile()).directory(dir.toFile()).start());
    assertThat(run.waitFor(180, TimeUnit.SECONDS)).as("spoke run finished").isTrue();
    return new Result(run.exitValue(), Files.readString(out), Files.readString(err));
  }

  private long pidIn(Path file) throws Exception {
    until("the pid in " + file, () -> Files.exists(file) && !Files.readString(file).isBlank());
    return processes.track(Long.parseLong(Files.readString(file).trim()));
  }

  private static void gone(long pid) throws Exception {
    until("process " + pid + " to be gone", () -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
  }

  private String[] onHub(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("--hub", cluster.hubHost() + ":" + cluster.hubPort(), "--token-file",
      cluster.tokenFile().toString()));
    all.addAll(List.of(args));
    return all.toArray(String[]::new);
  }

  @Test
  void anEmbeddedRunPrintsEveryLineOfEveryRankWithItsRankAndExitsZero() throws Exception {
    Result r = run("--nodes", "2", "--per-node", "2", "--gpus", "1", "--", "sh", "-c",
      "echo hello from $RANK of $WORLD_SIZE local $LOCAL_RANK gpus $CUDA_VISIBLE_DEVICES attempt $SPOKE_ATTEMPT; echo second line");
    assertThat(r.status()).as(r.err()).isZero();
    for (int rank = 0; rank < 4; rank++) {
      assertThat(r.out()).containsPattern("(?m)^\\[rank " + rank + "\\] hello from " + rank + " of 4 local " + (rank % 2)
        + " gpus \\d attempt 0$");
      assertThat(r.out()).contains("[rank " + rank + "] second line");
    }
    assertThat(r.out()).doesNotContain("# Spoke process");
  }

  @Test
  void aRankThatFailsStopsTheOthersAndItsStatusIsTheRunsStatus() throws Exception {
    long start = System.nanoTime();
    Result r = run("--nodes", "1", "--per-node", "3", "--", "sh", "-c",
      "echo $$ > " + dir + "/pid-$RANK; if [ $RANK = 1 ]; then sleep 1; echo giving up; exit 3; fi; exec sleep 600");
    assertThat(r.status()).as(r.out() + r.err()).isEqualTo(3);
    assertThat(r.err()).contains("rank 1 exited with status 3; stopping the other ranks");
    assertThat(r.out()).contains("[rank 1] giving up");
    assertThat(System.nanoTime() - start).as("well before the other ranks' sleep ends").isLessThan(TimeUnit.SECONDS.toNanos(120));
    for (int rank = 0; rank < 3; rank++) {
      gone(pidIn(dir.resolve("pid-" + rank)));
    }
  }

  @Test
  void aRankThatFailsItsFirstAttemptIsRestartedUnderItsPolicy() throws Exception {
    String script = "[ \"$SPOKE_ATTEMPT\" -ge 1 ] || exit 3; echo ok";
    Result restarted = run("--nodes", "1", "--per-node", "2", "--restart", "on-failure", "--max-restarts", "2", "--backoff", "100",
      "--", "sh", "-c", script);
    assertThat(restarted.status()).as(restarted.out() + restarted.err()).isZero();
    assertThat(restarted.out()).contains("[rank 0] ok").contains("[rank 1] ok");
    Result noBudget = run("--nodes", "1", "--per-node", "2", "--restart", "on-failure", "--max-restarts", "0", "--", "sh", "-c", script);
    assertThat(noBudget.status()).isEqualTo(3);
    Result bad = run("--restart", "sometimes", "--", "true");
    assertThat(bad.status()).isEqualTo(2);
    assertThat(bad.err()).contains("a restart policy is never, on-failure or always, got 'sometimes'");
  }

  @Test
  void aRankWhoseRestartCannotStartEndsTheRunWithAStatusAndSaysWhy() throws Exception {
    // The first attempt removes its working directory, so no restart can start: the run ends, it does not hang.
    Path workdir = Files.createDirectory(dir.resolve("vanishing"));
    long start = System.nanoTime();
    Result r = run("--nodes", "1", "--per-node", "1", "--restart", "on-failure", "--max-restarts", "2", "--backoff", "200",
      "--workdir", workdir.toString(), "--", "sh", "-c", "rm -rf " + workdir + "; exit 3");
    assertThat(r.status()).as(r.out() + r.err()).isEqualTo(1);
    assertThat(r.err()).contains("rank 0 restart 2 could not start: ").contains("its working directory " + workdir + " does not exist")
      .contains("no restart left (2 within");
    assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(60));
  }

  @Test
  void aGangRestartStartsEveryRankAgainWhenOneDiesAndTheJobCompletes() throws Exception {
    String script = String.join("\n",
      "import os, signal, torch, torch.distributed as dist",
      "rank, attempt = int(os.environ['RANK']), int(os.environ['SPOKE_ATTEMPT'])",
      "print('start', rank, 'attempt', attempt, 'master', os.environ['MASTER_PORT'], flush=True)",
      "if rank == 3 and attempt == 0:",
      "    os.kill(os.getpid(), signal.SIGKILL)",
      "dist.init_process_group('gloo', init_method='env://')",
      "t = torch.tensor([float(rank + 1)])",
      "dist.all_reduce(t)",
      "print('rank', rank, 'attempt', attempt, 'sum', t.item(), flush=True)",
      "dist.destroy_process_group()");
    Result r = run("--nodes", "2", "--per-node", "2", "--gang-restart", "--max-restarts", "1", "--backoff", "200", "--",
      "/usr/bin/python3", "-c", script);
    assertThat(r.status()).as(r.out() + r.err()).isZero();
    java.util.regex.Matcher master = java.util.regex.Pattern.compile("master \\S+:(\\d+)").matcher(r.err());
    assertThat(master.find()).as(r.err()).isTrue();
    for (int rank = 0; rank < 4; rank++) {
      assertThat(r.out()).contains("[rank " + rank + "] start " + rank + " attempt 1 master " + master.group(1));
      assertThat(r.out()).contains("[rank " + rank + "] rank " + rank + " attempt 1 sum 10.0");
    }
    assertThat(r.out()).contains("[rank 3] start 3 attempt 0");
    Result noBudget = run("--nodes", "1", "--per-node", "2", "--gang-restart", "--max-restarts", "0", "--", "sh", "-c",
      "[ $RANK = 1 ] && exit 7; exec sleep 600");
    assertThat(noBudget.status()).as(noBudget.err()).isEqualTo(7);
  }

  @Test
  void badCommandLinesAreRefusedWithTheUsage() throws Exception {
    Result noCommand = run("--nodes", "1");
    assertThat(noCommand.status()).isEqualTo(2);
    assertThat(noCommand.err()).contains("the command goes after --").contains("usage: spoke run");
    Result zero = run("--nodes", "0", "--", "true");
    assertThat(zero.status()).isEqualTo(2);
    assertThat(zero.err()).contains("--nodes takes a whole number of at least 1, got '0'");
    Result env = run("--env", "NOEQUALS", "--", "true");
    assertThat(env.status()).isEqualTo(2);
    assertThat(env.err()).contains("--env takes KEY=VALUE");
    Result missing = run("--", "no-such-program-spoke");
    assertThat(missing.status()).isEqualTo(1);
    assertThat(missing.err()).contains("no program 'no-such-program-spoke'");
  }

  @Test
  void aDetachedRunOutlivesTheCommandUntilSpokeStop(Vertx vertx) throws Exception {
    cluster.start(vertx);
    cluster.startAgent(new AgentOptions().setGpus(2));
    Path pidFile = dir.resolve("detached.pid");
    Result r = run(onHub("--detach", "--nodes", "1", "--per-node", "1", "--", "sh", "-c", "echo $$ > " + pidFile + "; exec sleep 600"));
    assertThat(r.status()).as(r.err()).isZero();
    String ticket = r.out().trim();
    assertThat(ticket).isNotEmpty().doesNotContain("\n");
    long pid = pidIn(pidFile);
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).contains(true);

    List<String> stop = new ArrayList<>(List.of("stop", ticket));
    stop.addAll(List.of(onHub()));
    Result stopped = run(stop.toArray(String[]::new));
    assertThat(stopped.status()).as(stopped.err()).isZero();
    gone(pid);
  }

  @Test
  void theRanksOfARunThatIsKilledAreStoppedWholeAfterTheGracePeriod(Vertx vertx) throws Exception {
    cluster.start(vertx, new HubOptions().setClientGracePeriod(1_000));
    cluster.startAgent(new AgentOptions().setGpus(2));
    Path child = dir.resolve("child.pid");
    Path rank = dir.resolve("rank.pid");
    Path out = dir.resolve("killed-out.txt");
    Process run = processes.track(TestCluster.java(List.of("-Dspoke.log.level=warn"), RunMain.class.getName(),
        onHub("--nodes", "1", "--per-node", "1", "--", "sh", "-c",
          "setsid sh -c 'echo $$ > " + child + "; exec sleep 600' & echo $$ > " + rank + "; exec sleep 600"))
      .redirectOutput(out.toFile()).redirectErrorStream(true).start());
    long c = pidIn(child);
    long r = pidIn(rank);
    run.destroyForcibly();
    run.waitFor(30, TimeUnit.SECONDS);
    gone(r);
    gone(c);
  }

  @Test
  void sigtermStopsEveryRankAtOnceAndReleasesTheTicket(Vertx vertx) throws Exception {
    // A grace period far longer than the test: only the run's own stop can end the ranks in time.
    cluster.start(vertx, new HubOptions().setClientGracePeriod(600_000));
    cluster.startAgent(new AgentOptions().setGpus(2));
    Path out = dir.resolve("term-out.txt");
    Process run = processes.track(TestCluster.java(List.of("-Dspoke.log.level=warn"), RunMain.class.getName(),
        onHub("--nodes", "1", "--per-node", "2", "--", "sh", "-c", "echo $$ > " + dir + "/term-$RANK; exec sleep 600"))
      .redirectOutput(out.toFile()).redirectErrorStream(true).start());
    long r0 = pidIn(dir.resolve("term-0"));
    long r1 = pidIn(dir.resolve("term-1"));
    run.destroy();
    assertThat(run.waitFor(60, TimeUnit.SECONDS)).as("spoke run ended on SIGTERM").isTrue();
    assertThat(run.exitValue()).isEqualTo(143);
    assertThat(Files.readString(out)).contains("interrupted; stopping every rank of ticket");
    gone(r0);
    gone(r1);
    assertThat(await(cluster.client().status()).tickets()).as("tickets left").isEmpty();
  }

  @Test
  void aTorchDistributedJobAllReducesAcrossItsRanks() throws Exception {
    String script = String.join("\n",
      "import torch, torch.distributed as dist",
      "dist.init_process_group('gloo', init_method='env://')",
      "t = torch.tensor([float(dist.get_rank() + 1)])",
      "dist.all_reduce(t)",
      "print('rank', dist.get_rank(), 'of', dist.get_world_size(), 'sum', t.item(), flush=True)",
      "dist.destroy_process_group()");
    Result r = run("--nodes", "2", "--per-node", "2", "--", "/usr/bin/python3", "-c", script);
    assertThat(r.status()).as(r.out() + r.err()).isZero();
    for (int rank = 0; rank < 4; rank++) {
      assertThat(r.out()).contains("[rank " + rank + "] rank " + rank + " of 4 sum 10.0");
    }
  }
}
