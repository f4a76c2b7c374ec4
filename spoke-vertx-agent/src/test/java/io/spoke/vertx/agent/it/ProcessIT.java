// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static io.spoke.vertx.test.Await.awaitFailure;
import static io.spoke.vertx.test.Await.until;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.SchedulingException;
import io.spoke.vertx.SpawnException;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorLog;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.ManagedProcess;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.Readiness;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Managed processes on a real hub and agent: readiness, the rank's environment, ports of their own, exit statuses,
 * stops that end the whole tree, and bad input that fails clearly and leaves nothing behind.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class ProcessIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);

  @TempDir
  Path dir;

  private SpokeClient client;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    cluster.start(vertx);
    cluster.startAgent(new AgentOptions().setNodeId("p1").setGpus(2).setMasterPortRange("29600-29619"));
    client = cluster.client();
  }

  private static ProcessSpec sh(String script) {
    return new ProcessSpec(List.of("sh", "-c", script));
  }

  private String log(ManagedProcess process) throws Exception {
    ActorLog log = await(client.readLog(process.id(), 0, 1 << 20));
    return log.data().toString(StandardCharsets.UTF_8);
  }

  private long pidIn(Path file) throws Exception {
    until("the pid in " + file, () -> Files.exists(file) && !Files.readString(file).isBlank());
    return processes.track(Long.parseLong(Files.readString(file).trim()));
  }

  @Test
  void anHttpServerOnItsOwnPortIsReadyWhenItAnswersAndAStopEndsIt() throws Exception {
    ManagedProcess server = await(client.spawnProcess("web-1",
      sh("echo starting on $SPOKE_PORT_0; exec python3 -m http.server --bind 127.0.0.1 $SPOKE_PORT_0")
        .setPorts(1).setReady(Readiness.http("http://127.0.0.1:${SPOKE_PORT_0}/")), new SpawnOptions().setGpus(1)));
    ActorInfo info = server.info();
    assertThat(info.isProcess()).isTrue();
    assertThat(info.state()).isEqualTo(ActorState.RUNNING);
    assertThat(info.command()).containsExactly("sh", "-c",
      "echo starting on $SPOKE_PORT_0; exec python3 -m http.server --bind 127.0.0.1 $SPOKE_PORT_0");
    assertThat(server.ports()).hasSize(1);
    int port = server.ports().get(0);
    assertThat(port).isBetween(29600, 29619);
    assertThat(info.gpuIds()).hasSize(1);
    processes.track(info.pid());
    // Ready means it answers: no retry needed.
    HttpURLConnection get = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + "/").toURL().openConnection();
    assertThat(get.getResponseCode()).isEqualTo(200);
    get.disconnect();
    assertThat(log(server)).contains("starting on " + port);

    ActorInfo exited = await(server.stop());
    assertThat(exited.state()).isEqualTo(ActorState.EXITED);
    assertThat(exited.reason()).isEqualTo("stopped");
    assertThat(await(server.exit()).exitCode()).isEqualTo(exited.exitCode());
    until("the server's pid to be gone", () -> ProcessHandle.of(info.pid()).map(p -> !p.isAlive()).orElse(true));
    // Its port and GPU are free again: the same spawn fits once more.
    ManagedProcess again = await(client.spawnProcess("web-2", sh("exec sleep 600").setPorts(1), new SpawnOptions().setGpus(2)));
    processes.track(again.info().pid());
    await(again.stop());
  }

  @Test
  void aRankSeesItsPlaceAndEveryRankGetsPortsOfItsOwnThatItCanBind() throws Exception {
    Allocation ticket = await(client.gangAllocate(new GangRequest().setNodes(1).setActorsPerNode(2).setGpus(1)));
    String binder = "import os, socket\n"
      + "ports = [int(os.environ['SPOKE_PORT_%d' % i]) for i in range(3)]\n"
      + "socks = []\n"
      + "for p in ports:\n"
      + "    s = socket.socket(); s.bind(('0.0.0.0', p)); s.listen(); socks.append(s)\n"
      + "print('env', os.environ['RANK'], os.environ['WORLD_SIZE'], os.environ['LOCAL_RANK'], os.environ['CUDA_VISIBLE_DEVICES'],"
      + " os.environ['MASTER_PORT'], os.environ['SPOKE_TICKET'], os.environ['SPOKE_NODE_IP'], os.environ['SPOKE_ATTEMPT'], flush=True)\n"
      + "print('bound', *ports, flush=True)\n"
      + "import time; time.sleep(600)\n";
    List<ManagedProcess> ranks = new ArrayList<>();
    for (int rank = 0; rank < 2; rank++) {
      ranks.add(await(client.launchProcess(ticket.ticketId(), rank, "binder-" + rank,
        new ProcessSpec(List.of("python3", "-c", binder)).setPorts(3).setReady(Readiness.log("^bound")))));
    }
    Set<Integer> ports = new HashSet<>();
    for (int rank = 0; rank < 2; rank++) {
      ManagedProcess p = ranks.get(rank);
      processes.track(p.info().pid());
      assertThat(p.ports()).hasSize(3);
      ports.addAll(p.ports());
      String log = log(p);
      assertThat(log).contains("bound " + p.ports().get(0) + " " + p.ports().get(1) + " " + p.ports().get(2));
      assertThat(log).containsPattern("env " + rank + " 2 " + rank + " " + p.info().gpuIds().get(0) + " "
        + ticket.slots().get(0).masterPort() + " " + ticket.ticketId() + " \\S+ 0");
      assertThat(p.info().rank()).isEqualTo(rank);
      assertThat(p.info().ticket()).isEqualTo(ticket.ticketId());
    }
    assertThat(ports).as("2 ranks x 3 ports, all distinct").hasSize(6);
    await(client.release(ticket.ticketId()));
    for (ManagedProcess p : ranks) {
      ActorInfo end = await(p.exit());
      assertThat(end.state()).isEqualTo(ActorState.EXITED);
    }
  }

  @Test
  void anExitStatusReachesTheOwnerAndADeathBeforeReadyFailsTheLaunchWithItsLog() throws Exception {
    ManagedProcess quick = await(client.spawnProcess("exits-3", sh("sleep 0.5; exit 3")));
    ActorInfo end = await(quick.exit());
    assertThat(end.exitCode()).isEqualTo(3);
    assertThat(end.reason()).isEqualTo("exited with status 3");

    Throwable died = awaitFailure(client.spawnProcess("dies-early", sh("echo the model file is missing >&2; exit 7")
      .setReady(Readiness.tcp(1))));
    assertThat(died).isInstanceOf(SpawnException.class)
      .hasMessageContaining("exited with status 7 before it was ready (tcp:1)")
      .hasMessageContaining("the model file is missing");

    Path pid = dir.resolve("slow.pid");
    Throwable late = awaitFailure(client.spawnProcess("never-ready", sh("echo $$ > " + pid + "; echo warming up; exec sleep 600")
      .setReady(Readiness.log("^serving")), new SpawnOptions().setTimeout(2_000)));
    assertThat(late).isInstanceOf(SpawnException.class)
      .hasMessageContaining("did not become ready (log:^serving) within 2000 ms and was killed")
      .hasMessageContaining("warming up");
    long slow = pidIn(pid);
    until("the process that never got ready to be gone", () -> ProcessHandle.of(slow).map(p -> !p.isAlive()).orElse(true));
  }

  @Test
  void stoppingEndsTheWholeTreeAlsoWhatLeftTheSessionAndWhatIgnoresTheSignal() throws Exception {
    Path child = dir.resolve("child.pid");
    Path grandchild = dir.resolve("grandchild.pid");
    ManagedProcess tree = await(client.spawnProcess("tree-1", sh(
      "trap '' TERM; setsid sh -c 'echo $$ > " + child + "; exec sleep 600' & (sh -c 'echo $$ > " + grandchild
        + "; exec sleep 600' &); echo up; while :; do sleep 1; done").setReady(Readiness.log("^up")).setStopGraceMs(500)));
    long root = processes.track(tree.info().pid());
    long c = pidIn(child);
    long g = pidIn(grandchild);
    ActorInfo end = await(tree.stop());
    assertThat(end.reason()).isEqualTo("stopped (killed after its 500 ms grace period)");
    for (long pid : List.of(root, c, g)) {
      until("pid " + pid + " of the stopped tree to be gone", () -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    }
  }

  @Test
  void aStopSendsTheProcesssOwnStopSignal() throws Exception {
    Path got = dir.resolve("got");
    // SIGINT (2) ends it cleanly; SIGTERM, the default, would not: within the 30 s grace only SIGINT can end it.
    ManagedProcess p = await(client.spawnProcess("interruptible", sh("trap '' TERM; trap 'echo INT > " + got + "; exit 0' INT; "
      + "echo up; while :; do sleep 0.1; done").setReady(Readiness.log("^up")).setStopSignal(2).setStopGraceMs(30_000)));
    processes.track(p.info().pid());
    ActorInfo end = await(p.stop());
    assertThat(end.exitCode()).as(end.reason()).isZero();
    assertThat(Files.readString(got).strip()).isEqualTo("INT");
  }

  @Test
  void whatAProcessLeftBehindWhenItExitedIsKilledToo() throws Exception {
    Path orphan = dir.resolve("orphan.pid");
    ManagedProcess parent = await(client.spawnProcess("leaves-orphan", sh("setsid sh -c 'echo $$ > " + orphan
      + "; exec sleep 600' & sleep 0.5; exit 0")));
    long pid = pidIn(orphan);
    assertThat(await(parent.exit()).exitCode()).isZero();
    until("the orphan to be gone", () -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
  }

  @Test
  void aSigkilledAgentTakesItsProcessesTreesWithIt() throws Exception {
    Process agent = cluster.startAgentProcess("doomed", java.util.Map.of(), "--gpus", "0");
    Path child = dir.resolve("escaped.pid");
    ManagedProcess p = await(client.spawnProcess("on-doomed", sh("setsid sh -c 'echo $$ > " + child + "; exec sleep 600' & "
      + "(sleep 600 &); echo up; exec sleep 600").setReady(Readiness.log("^up")), new SpawnOptions().setNode("doomed")));
    long root = processes.track(p.info().pid());
    long escaped = pidIn(child);
    agent.destroyForcibly();
    assertThat(agent.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    until("the process to be gone", () -> ProcessHandle.of(root).map(h -> !h.isAlive()).orElse(true));
    until("what left its session to be gone", () -> ProcessHandle.of(escaped).map(h -> !h.isAlive()).orElse(true));
    byte[] tag = ("SPOKE_PROCESS_ID=on-doomed").getBytes(StandardCharsets.UTF_8);
    until("no process of its tree (the double-forked sleep included)", () -> pidsWith(tag).isEmpty());
  }

  /** Processes whose environment has the entry {@code entry}. */
  private static List<Long> pidsWith(byte[] entry) throws Exception {
    List<Long> found = new ArrayList<>();
    try (java.util.stream.Stream<Path> proc = Files.list(Path.of("/proc"))) {
      for (Path d : (Iterable<Path>) proc.filter(x -> x.getFileName().toString().matches("\\d+"))::iterator) {
        try {
          byte[] env = Files.readAllBytes(d.resolve("environ"));
          String text = new String(env, StandardCharsets.ISO_8859_1);
          if (("\0" + text).contains("\0" + new String(entry, StandardCharsets.ISO_8859_1) + "\0")) {
            found.add(Long.parseLong(d.getFileName().toString()));
          }
        } catch (java.io.IOException gone) {
          // exited while listed
        }
      }
    }
    return found;
  }

  @Test
  void badInputFailsClearlyAndLeavesNothingBehind() throws Exception {
    assertThatThrownBy(() -> new ProcessSpec(List.of("true")).addEnv("A=B", "x")).isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("without '='");
    assertThatThrownBy(() -> new ProcessSpec().setPorts(65)).isInstanceOf(IllegalArgumentException.class);
    assertThat(awaitFailure(client.spawnProcess("empty", new ProcessSpec()))).isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("needs a command");
    assertThat(awaitFailure(client.spawnProcess("missing", new ProcessSpec(List.of("no-such-program-spoke")))))
      .isInstanceOf(SpawnException.class).hasMessageContaining("no program 'no-such-program-spoke' on node p1 on its PATH");
    assertThat(awaitFailure(client.spawnProcess("nowhere", new ProcessSpec(List.of("true")).setWorkdir("/no/such/dir"))))
      .isInstanceOf(SpawnException.class).hasMessageContaining("working directory /no/such/dir does not exist on node p1");
    assertThat(awaitFailure(client.spawnProcess("greedy", new ProcessSpec(List.of("true")).setPorts(21))))
      .isInstanceOf(SchedulingException.class).hasMessageContaining("21 ports asked for")
      .hasMessageContaining("port range 29600-29619");
    assertThat(awaitFailure(client.spawnProcess("jvm", new ProcessSpec(List.of("true")),
      new SpawnOptions().setJvmOptions(List.of("-Xmx1g"))))).isInstanceOf(IllegalArgumentException.class);
    // None of them holds anything: both GPUs and the ports are there for the next one (not quite all 20 ports: one
    // that an earlier test's connection left in TIME_WAIT cannot be bound, and is skipped).
    ManagedProcess all = await(client.spawnProcess("all-ports", sh("exec sleep 600").setPorts(15), new SpawnOptions().setGpus(2)));
    processes.track(all.info().pid());
    assertThat(all.ports()).hasSize(15).allSatisfy(port -> assertThat(port).isBetween(29600, 29619));
    await(all.stop());
    try (ServerSocket socket = new ServerSocket(all.ports().get(0))) {
      assertThat(socket.getLocalPort()).isEqualTo(all.ports().get(0));
    }
  }
}
