// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.run;

import static io.spoke.vertx.run.SlurmKit.jobProcesses;
import static io.spoke.vertx.run.SlurmKit.quote;
import static io.spoke.vertx.run.SlurmKit.spokeRun;
import static io.spoke.vertx.run.SlurmKit.srun;
import static io.spoke.vertx.test.Await.until;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.client.GpuInfo;
import io.spoke.vertx.client.ManagedProcess;
import io.spoke.vertx.client.NodeInfo;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.run.SlurmKit.Result;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code spoke run --slurm} on a real Slurm (Debian's slurm-wlm and munge): slurmctld and six slurmd on this machine
 * with 4 GPUs each as GRES ({@code scripts/slurm-test-cluster.sh}, proctrack/linuxproc; {@link SlurmPgidIT} has
 * proctrack/pgid): n1 and n2 sharing 127.0.0.1 (two agents and two jobs' clusters on one address: ports must not
 * collide), n3 and n4 on loopback addresses of their own, 127.0.0.3 and 127.0.0.4 (an agent must advertise its own
 * node's address), n5 and n6 in network namespaces of their own, 10.213.0.11 and 10.213.0.12, where a node's loopback
 * is its own as on separate hosts. Jobs are started with srun and sbatch, cancelled with scancel. No part of Slurm is
 * mocked.
 */
class SlurmIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @TempDir
  static Path slurmDir;

  @TempDir
  Path dir;

  private static SlurmKit kit;

  @BeforeAll
  static void startSlurm() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "slurmd runs as root: SlurmIT needs root (CI runs as root)");
    netns("up", "2", NAMESPACE);
    kit = new SlurmKit(slurmDir, processes).start(6, 4, "127.0.0.1,127.0.0.1,127.0.0.3,127.0.0.4,10.213.0.11,10.213.0.12",
      ",,,," + NAMESPACE + "-1," + NAMESPACE + "-2", "linuxproc", true);
  }

  @AfterAll
  static void stopSlurm() throws Exception {
    if (kit != null) {
      kit.stop();
      netns("down", NAMESPACE);
    }
  }

  /** The network namespaces of nodes n5 and n6 ({@code scripts/netns-cluster.sh}). */
  private static final String NAMESPACE = "spokeslurm";

  private static void netns(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Paths.get("..", "scripts", "netns-cluster.sh").toAbsolutePath().normalize().toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("netns-cluster.sh " + String.join(" ", args) + ": " + output).isZero();
  }

  @AfterEach
  void cancelJobs() throws Exception {
    if (kit != null) {
      kit.cancelAll(dir);
    }
  }

  private Result run(List<String> command) throws Exception {
    return kit.run(dir, command);
  }

  private static final String ALL_REDUCE = String.join("\n",
    "import os, torch, torch.distributed as dist",
    "dist.init_process_group('gloo', init_method='env://')",
    "t = torch.tensor([float(dist.get_rank() + 1)])",
    "dist.all_reduce(t)",
    "e = os.environ",
    "print('rank', dist.get_rank(), 'of', dist.get_world_size(), 'RANK', e['RANK'], 'WORLD_SIZE', e['WORLD_SIZE'],",
    "      'master', e['MASTER_ADDR'] + ':' + e['MASTER_PORT'], 'node', e['SLURMD_NODENAME'], 'ip', e['SPOKE_NODE_IP'],",
    "      'gpus', e['CUDA_VISIBLE_DEVICES'], 'step', e['SLURM_STEP_GPUS'], 'sum', int(t.item()), flush=True)",
    "dist.destroy_process_group()");

  private static final Pattern RANK_LINE = Pattern.compile(
    "(?m)^\\[rank (\\d)] rank (\\d) of 4 RANK (\\d) WORLD_SIZE 4 master (\\S+) node (n\\d) ip (\\S+) gpus (\\S+) step (\\S+) sum (\\d+)$");

  /** The nodes that share 127.0.0.1. */
  private static final Map<String, String> SHARED = Map.of("n1", "127.0.0.1", "n2", "127.0.0.1");
  /** The nodes with addresses of their own. */
  private static final Map<String, String> OWN = Map.of("n3", "127.0.0.3", "n4", "127.0.0.4");
  /** The nodes in network namespaces of their own. */
  private static final Map<String, String> NETNS = Map.of("n5", "10.213.0.11", "n6", "10.213.0.12");

  /**
   * Checks one all-reduce run of 2 nodes x 2 ranks on {@code nodes} (name to address): every rank's sum, identity,
   * node, address and GPU, and one rendezvous address: the first node's.
   */
  private static void assertAllReduced(Result r, Map<String, String> nodes) {
    assertThat(r.status()).as(r.out() + r.err()).isZero();
    Matcher m = RANK_LINE.matcher(r.out());
    Set<Integer> ranks = new HashSet<>();
    Map<String, Set<String>> gpusByNode = new HashMap<>();
    Set<String> masters = new HashSet<>();
    while (m.find()) {
      int rank = Integer.parseInt(m.group(1));
      assertThat(m.group(2)).isEqualTo(m.group(1));
      assertThat(m.group(3)).isEqualTo(m.group(1));
      masters.add(m.group(4).split(":")[0]);
      assertThat(nodes).containsKey(m.group(5));
      assertThat(m.group(6)).as("rank " + rank + "'s node address").isEqualTo(nodes.get(m.group(5)));
      assertThat(m.group(9)).as("1 + 2 + 3 + 4").isEqualTo("10");
      assertThat(List.of(m.group(8).split(","))).as("rank " + rank + "'s GPU is one of its step's on its node").contains(m.group(7));
      assertThat(gpusByNode.computeIfAbsent(m.group(5), n -> new HashSet<>()).add(m.group(7))).as("no GPU given twice on a node")
        .isTrue();
      ranks.add(rank);
    }
    assertThat(ranks).as(r.out() + r.err()).containsExactlyInAnyOrder(0, 1, 2, 3);
    assertThat(gpusByNode.keySet()).as("ranks on each node").isEqualTo(nodes.keySet());
    assertThat(gpusByNode.values()).allSatisfy(gpus -> assertThat(gpus).hasSize(2));
    assertThat(masters).hasSize(1);
    assertThat(nodes.values()).contains(masters.iterator().next());
  }

  @Test
  void aGangOfTwoNodesRunsATorchAllReduceOnTheStepsGpus() throws Exception {
    Result r = run(srun(List.of("-N2", "--nodelist=n1,n2", "--ntasks-per-node=1", "--gres=gpu:2"), "--slurm", "--per-node", "2",
      "--gpus", "1", "--", "/usr/bin/python3", "-c", ALL_REDUCE));
    assertAllReduced(r, SHARED);
    // Every task printed its ports once: the hub's on the first node, the same hub port seen from the second.
    Matcher hub = Pattern.compile("hub on 127\\.0\\.0\\.1:(\\d+)").matcher(r.err());
    assertThat(hub.find()).as(r.err()).isTrue();
    assertThat(r.err()).contains("hub at 127.0.0.1:" + hub.group(1));
    assertThat(r.err()).contains("node n2: the run on 2 nodes is over; every rank exited 0");
  }

  @Test
  void onNodesWithAddressesOfTheirOwnEveryAgentAdvertisesItsNodesAddress() throws Exception {
    Result r = run(srun(List.of("-N2", "--nodelist=n3,n4", "--ntasks-per-node=1", "--gres=gpu:2"), "--slurm", "--per-node", "2",
      "--gpus", "1", "--", "/usr/bin/python3", "-c", ALL_REDUCE));
    assertAllReduced(r, OWN);
    assertThat(r.err()).containsPattern("node n3 \\(127\\.0\\.0\\.3, 1 of 2\\): hub on 127\\.0\\.0\\.3:\\d+")
      .containsPattern("node n4 \\(127\\.0\\.0\\.4, 2 of 2\\): hub at 127\\.0\\.0\\.3:\\d+");
    assertThat(r.out()).contains("master 127.0.0.3:");
  }

  @Test
  void onNodesInNetworkNamespacesTheRanksMeetAtTheirNodesOwnAddresses() throws Exception {
    // Here 127.0.0.1 is each node's own: a hub, agent or rank that listens on loopback, or advertises it, is not
    // reached from the other node (gloo, left to itself, listens on the host name's 127.0.0.1: the agent names the
    // interface of its node's address).
    Result r = run(srun(List.of("-N2", "--nodelist=n5,n6", "--ntasks-per-node=1", "--gres=gpu:2"), "--slurm", "--per-node", "2",
      "--gpus", "1", "--", "/usr/bin/python3", "-c", ALL_REDUCE));
    assertAllReduced(r, NETNS);
    assertThat(r.err()).containsPattern("node n6 \\(10\\.213\\.0\\.12, 2 of 2\\): hub at 10\\.213\\.0\\.11:\\d+");
    assertThat(r.out()).contains("master 10.213.0.11:");
  }

  @Test
  void whenTheFirstNodesTaskIsKilledTheOtherNodeStopsItsRanksAndEndsWithinTenSeconds() throws Exception {
    String rank = "echo $SLURM_JOB_ID > " + dir + "/job-$RANK.tmp; mv " + dir + "/job-$RANK.tmp " + dir + "/job-$RANK; "
      + "while true; do sleep 0.1; done";
    Process job = kit.start(dir, srun(List.of("-N2", "--nodelist=n5,n6", "--ntasks-per-node=1"), "--slurm", "--per-node", "2", "--",
      "sh", "-c", rank), "killed");
    for (int r = 0; r < 4; r++) {
      Path marker = dir.resolve("job-" + r);
      until("rank " + r + " to run", 120, TimeUnit.SECONDS, () -> Files.exists(marker));
    }
    String jobId = Files.readString(dir.resolve("job-0")).strip();
    // The first node's task (its hub, its agent and the run), SIGKILLed: it says nothing to anyone. It is the one
    // process of the node's share of the job whose parent (slurmstepd) is not of the job.
    List<Long> onFirst = SlurmKit.processesWith("SLURM_JOB_ID=" + jobId, "SLURM_NODEID=0");
    List<Long> first = onFirst.stream().filter(pid -> ProcessHandle.of(pid).flatMap(ProcessHandle::parent)
      .map(parent -> !onFirst.contains(parent.pid())).orElse(false)).toList();
    assertThat(first).as("the first node's spoke run").hasSize(1);
    ProcessHandle.of(first.get(0)).ifPresent(ProcessHandle::destroyForcibly);
    long killed = System.nanoTime();
    Result r = SlurmKit.finish(dir, job, "killed");
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
    assertThat(r.status()).as(r.err()).isNotZero();
    assertThat(r.err()).contains("node n6: the hub at 10.213.0.11:").contains("has been gone for 10 s without ending the run");
    assertThat(tookMs).as("srun's end after the kill").isBetween(SlurmRun.HUB_LOST_MS, SlurmRun.HUB_LOST_MS + 20_000);
    until("no process of job " + jobId + " left", 15, TimeUnit.SECONDS, () -> jobProcesses(jobId).isEmpty());
  }

  @Test
  void twoJobsOnTheSameTwoNodesRunAtOnceWithoutAPortCollision() throws Exception {
    // Each rank waits until all 8 ranks of both jobs have started: the two clusters surely run at the same time.
    String script = String.join("\n",
      "import os, time, torch, torch.distributed as dist",
      "open(os.path.join('" + dir + "', 'started-' + os.environ['SLURM_JOB_ID'] + '-' + os.environ['RANK']), 'w').close()",
      "deadline = time.time() + 120",
      "while len([f for f in os.listdir('" + dir + "') if f.startswith('started-')]) < 8 and time.time() < deadline:",
      "    time.sleep(0.05)",
      ALL_REDUCE);
    List<String> job = srun(List.of("-N2", "--nodelist=n1,n2", "--ntasks-per-node=1", "--gres=gpu:2"), "--slurm", "--per-node", "2",
      "--gpus", "1", "--", "/usr/bin/python3", "-c", script);
    Process first = kit.start(dir, job, "first");
    Process second = kit.start(dir, job, "second");
    Result a = SlurmKit.finish(dir, first, "first");
    Result b = SlurmKit.finish(dir, second, "second");
    assertAllReduced(a, SHARED);
    assertAllReduced(b, SHARED);
    try (var files = Files.list(dir)) {
      assertThat(files.filter(f -> f.getFileName().toString().startsWith("started-")).count()).isEqualTo(8);
    }
    assertThat(hubPort(a)).isNotEqualTo(hubPort(b));
  }

  private static String hubPort(Result r) {
    Matcher m = Pattern.compile("hub on 127\\.0\\.0\\.1:(\\d+)").matcher(r.err());
    assertThat(m.find()).as(r.err()).isTrue();
    return m.group(1);
  }

  @Test
  void scancelStopsEveryRankWithItsStopSignalAndLeavesNoProcessOfTheJob() throws Exception {
    kit.scancelLeavesNothing(dir, "n1,n3");
  }

  @Test
  void anSbatchJobWhoseRankOneExitsThreeEndsWithExitCodeThree() throws Exception {
    Path batch = dir.resolve("job.sh");
    String run = spokeRun("--slurm", "--per-node", "1", "--", "sh", "-c", "if [ \"$RANK\" = 1 ]; then exit 3; fi; sleep 30").stream()
      .map(SlurmKit::quote).collect(Collectors.joining(" "));
    Files.writeString(batch, "#!/bin/sh\nsrun -N2 --ntasks-per-node=1 " + run + "\n");
    Process submit = kit.slurm(dir, "sbatch", "--parsable", "-N2", "--nodelist=n2,n4", "-o", dir.resolve("batch.out").toString(), batch.toString());
    String submitted = new String(submit.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(submit.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(submit.exitValue()).as(submitted).isZero();
    String jobId = submitted.split(";")[0];
    until("job " + jobId + " to end", 120, TimeUnit.SECONDS, () -> {
      String state = show(jobId);
      return state.contains("JobState=COMPLETED") || state.contains("JobState=FAILED");
    });
    String job = show(jobId);
    assertThat(job).as(Files.readString(dir.resolve("batch.out"))).contains("JobState=FAILED").contains("ExitCode=3:0");
    String batchOut = Files.readString(dir.resolve("batch.out"));
    assertThat(batchOut).contains("rank 1 exited with status 3");
    // Slurm's own job record (jobcomp/filetxt) says 3 as well, and so does sacct (slurmdbd on MariaDB), once the
    // controller has sent it the job's end.
    String record = Files.readAllLines(kit.dir().resolve("jobcomp.txt")).stream().filter(l -> l.contains("JobId=" + jobId + " "))
      .findFirst().orElse("");
    assertThat(record).contains("ExitCode=3:0");
    until("sacct to show job " + jobId + " ended", 60, TimeUnit.SECONDS, () -> sacct(jobId).startsWith(jobId + "|FAILED|3:0"));
  }

  /** {@code sacct}'s record of job {@code jobId}'s allocation: {@code id|state|exit code}. */
  private String sacct(String jobId) throws Exception {
    Process sacct = kit.slurm(dir, "sacct", "-X", "-n", "-P", "-j", jobId, "-o", "JobID,State,ExitCode");
    String out = new String(sacct.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    sacct.waitFor(30, TimeUnit.SECONDS);
    return out;
  }

  private String show(String jobId) throws Exception {
    Process show = kit.slurm(dir, "scontrol", "show", "job", jobId);
    String out = new String(show.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    show.waitFor(30, TimeUnit.SECONDS);
    return out;
  }

  @Test
  void aLongLivedClusterInAnAllocationServesAClientFromOutsideUntilScancel() throws Exception {
    // The documented sbatch script as it is, run with a launcher that starts the roles from this build's class path.
    Path launcher = dir.resolve("spoke");
    String java = TestCluster.java(List.of(), "Main").command().get(0);
    String classPath = System.getProperty("java.class.path");
    Files.writeString(launcher, "#!/bin/sh\nrole=$1; shift\ncase \"$role\" in\n"
      + "  hub) exec " + quote(java) + " -cp " + quote(classPath) + " io.spoke.vertx.hub.HubMain \"$@\" ;;\n"
      + "  agent) exec " + quote(java) + " -cp " + quote(classPath) + " io.spoke.vertx.agent.AgentMain \"$@\" ;;\n"
      + "esac\nexit 2\n");
    launcher.toFile().setExecutable(true);
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    Path sbatch = Paths.get("slurm", "spoke-cluster.sbatch").toAbsolutePath();
    Process submit = kit.slurm(dir, "sbatch", "--parsable", "-N2", "--nodelist=n3,n4", "--gres=gpu:2", "-o", dir.resolve("cluster.out").toString(),
      "--export=ALL,SPOKE=" + launcher + ",SPOKE_HUB_PORT=" + port + ",SPOKE_AGENT_OPTS=--gpus 4 --warm-pool 0", sbatch.toString());
    String submitted = new String(submit.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(submit.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(submit.exitValue()).as(submitted).isZero();
    String jobId = submitted.split(";")[0];
    Path hubFile = dir.resolve("spoke-cluster-" + jobId + ".hub");
    until("the job to say where its hub is", 60, TimeUnit.SECONDS, () -> Files.exists(hubFile));
    assertThat(Files.readString(hubFile).strip()).isEqualTo("127.0.0.3:" + port);

    // A client outside the allocation (this JVM) sees both nodes with the job's GPUs, and starts a process there.
    SpokeClient client = SpokeClient.create(new SpokeClientOptions()
      .setHubHost("127.0.0.3").setHubPort(port).setSecurity(new SecurityOptions().setToken(TestCluster.TOKEN)));
    try {
      until("both nodes' agents to register", 90, TimeUnit.SECONDS, () -> {
        try {
          return client.status().await(10, TimeUnit.SECONDS).nodes().size() == 2;
        } catch (Exception notYet) {
          return false;
        }
      });
      for (NodeInfo node : client.status().await(10, TimeUnit.SECONDS).nodes()) {
        assertThat(node.id()).isIn("n3", "n4");
        assertThat(node.host()).as("node " + node.id() + "'s advertised address").isEqualTo(OWN.get(node.id()));
        assertThat(node.gpus().stream().map(GpuInfo::index).toList()).as("the job's GPUs on " + node.id())
          .containsExactly(0, 1);
      }
      ManagedProcess sleeper = client.spawnProcess("outside-" + jobId,
        new ProcessSpec(List.of("sleep", "600")), new SpawnOptions().setGpus(1))
        .await(60, TimeUnit.SECONDS);
      long pid = sleeper.info().pid();
      assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).contains(true);
      assertThat(jobProcesses(jobId)).contains(pid);

      assertThat(kit.slurm(dir, "scancel", jobId).waitFor(30, TimeUnit.SECONDS)).isTrue();
      until("no process of job " + jobId + " left", 11, TimeUnit.SECONDS, () -> jobProcesses(jobId).isEmpty());
      assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).as("the client's process ended with the job").isFalse();
    } finally {
      client.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void stepsThatDoNotFitAreRefusedWithExitTwo() throws Exception {
    Result outside = run(spokeRun("--slurm", "--per-node", "1", "--", "true"));
    assertThat(outside.status()).isEqualTo(2);
    assertThat(outside.err()).contains("--slurm runs as the tasks of a Slurm step").contains("srun -N2 --ntasks-per-node=1");

    Result twoPerNode = run(srun(List.of("-N1", "-n2"), "--slurm", "--per-node", "1", "--", "true"));
    assertThat(twoPerNode.status()).isEqualTo(2);
    assertThat(twoPerNode.err()).contains("--slurm wants one task per node, but this step has 2 tasks on 1 node")
      .contains("srun --ntasks-per-node=1");

    Result tooFewGpus = run(srun(List.of("-N1", "--nodelist=n1", "--gres=gpu:2"), "--slurm", "--per-node", "3", "--gpus", "1", "--", "true"));
    assertThat(tooFewGpus.status()).isEqualTo(2);
    assertThat(tooFewGpus.err()).contains("--per-node 3 x --gpus 1 needs 3 GPUs on each node, but this step has 2 on node n1");

    Result withNodes = run(srun(List.of("-N1"), "--slurm", "--nodes", "2", "--", "true"));
    assertThat(withNodes.status()).isEqualTo(2);
    assertThat(withNodes.err()).contains("--nodes does not go with --slurm");
  }
}
