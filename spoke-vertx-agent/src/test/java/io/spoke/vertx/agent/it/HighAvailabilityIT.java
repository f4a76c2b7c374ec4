// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static io.spoke.vertx.test.Await.awaitFailure;
import static io.spoke.vertx.testkit.HubProcesses.awaitStatus;
import static io.spoke.vertx.testkit.HubProcesses.count;
import static io.spoke.vertx.testkit.HubProcesses.java;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.spoke.vertx.NotLeaderException;
import io.spoke.vertx.SchedulingException;
import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.HubInfo;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.EtcdCluster;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A highly available control plane on a real three-member etcd: two hubs in processes of their own on the same
 * {@code --etcd}, an agent and a client given both hubs' addresses. The leader is SIGKILLed, or SIGSTOPped past its
 * lease; the standby takes over with every acknowledged ticket, the agent and the client follow it, calls to running
 * actors never fail, and the paused leader, resumed, writes nothing and stands by.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class HighAvailabilityIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  private final List<SpokeClient> clients = new ArrayList<>();
  private EtcdCluster etcd;
  private Path dir;
  private Path token;
  private final int[] ports = new int[2];
  private final Process[] hubs = new Process[2];

  @BeforeEach
  void startEtcd() throws Exception {
    assumeTrue(EtcdCluster.available(), "etcd is not installed (apt-get install etcd-server etcd-client)");
    dir = Files.createTempDirectory("spoke-ha");
    token = dir.resolve("cluster.token");
    Files.writeString(token, TestCluster.TOKEN + "\n");
    etcd = EtcdCluster.start(processes::track, dir, 3);
  }

  @AfterEach
  void stopAll() throws Exception {
    for (SpokeClient client : clients) {
      client.close().await(30, TimeUnit.SECONDS);
    }
    if (etcd != null) {
      etcd.close();
    }
  }


  private Process startHub(int i) throws Exception {
    hubs[i] = java(processes, dir.resolve("hub" + i + ".out"), List.of(), "io.spoke.vertx.hub.HubMain", "--port", String.valueOf(ports[i]),
      "--token-file", token.toString(), "--heartbeat-interval", "200", "--node-timeout", "5000", "--http-port", "0", "--etcd",
      etcd.endpoints(), "--etcd-prefix", "/spoke/ha-it", "--lease-ttl", "2000");
    return hubs[i];
  }

  private String hubList() {
    return "127.0.0.1:" + ports[0] + ",127.0.0.1:" + ports[1];
  }

  private String output(int i) throws Exception {
    return Files.readString(dir.resolve("hub" + i + ".out"));
  }

  /** The hub that says it leads (the log line HaHub writes once it serves), waited for. */
  private int awaitLeader(Set<Integer> candidates, int leadsBefore) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      for (int i : candidates) {
        if (count(output(i), "leads and serves on port") > leadsBefore) {
          return i;
        }
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no hub of " + candidates + " came to lead:\n" + output(0) + "\n" + output(1));
  }


  private SpokeClient client(Vertx vertx, List<String> hubAddresses) {
    SpokeClient client = SpokeClient.create(vertx, new SpokeClientOptions().setHubAddresses(hubAddresses).setRequestTimeout(5_000)
      .setSecurity(new SecurityOptions().setTokenFile(token.toString())));
    clients.add(client);
    return client;
  }


  private SpokeClient startCluster(Vertx vertx) throws Exception {
    for (int i = 0; i < 2; i++) {
      try (ServerSocket socket = new ServerSocket(0)) {
        ports[i] = socket.getLocalPort();
      }
    }
    startHub(0);
    awaitLeader(Set.of(0), 0);
    startHub(1);
    // The standby listens before it is asked for anything: its answer names the leader.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!output(1).contains("Spoke hub listening on") && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    java(processes, dir.resolve("agent.out"), List.of(), "io.spoke.vertx.agent.AgentMain", "--hub", hubList(), "--node-id", "n1",
      "--gpus", "4", "--token-file", token.toString(), "--log-dir", dir.resolve("logs").toString(), "--reconnect-interval", "100",
      "--stop-timeout", "2000");
    // Listed standby first: the client follows the standby's answer to the leader.
    SpokeClient client = client(vertx, List.of("127.0.0.1:" + ports[1], "127.0.0.1:" + ports[0]));
    awaitStatus(client, st -> st.nodes().stream().anyMatch(n -> n.id().equals("n1") && n.alive()));
    return client;
  }

  /** The status page's address of hub {@code i}, from the line its standby's front logs as it binds (the leader's takes it over). */
  private String httpUrl(int i) throws Exception {
    Matcher url = Pattern.compile("the hub \\(standby\\) serves HTTP on (http://\\S+)").matcher(output(i));
    assertThat(url.find()).as("hub " + i + " serves HTTP").isTrue();
    return url.group(1);
  }

  /** GET {@code path} of hub {@code i}'s front with the cluster token: status and body. */
  private String get(int i, String path) throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(httpUrl(i) + path))
      .header("Authorization", "Bearer " + TestCluster.TOKEN).build(), HttpResponse.BodyHandlers.ofString());
    return response.statusCode() + " " + response.body();
  }

  /** The peers (address:port) of the established connections to local {@code port}, accepted or not yet (ss -tn). */
  private static Set<String> peers(int port) throws Exception {
    Process ss = new ProcessBuilder("ss", "-Htn", "state", "established", "( sport = :" + port + " )").redirectErrorStream(true).start();
    String out = new String(ss.getInputStream().readAllBytes());
    assertThat(ss.waitFor(10, TimeUnit.SECONDS)).isTrue();
    Set<String> peers = new HashSet<>();
    for (String line : out.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 4) {
        peers.add(f[3]);
      }
    }
    return peers;
  }

  private static Set<Integer> gpus(Allocation ticket) {
    Set<Integer> gpus = new HashSet<>();
    ticket.slots().forEach(slot -> gpus.addAll(slot.gpuIds()));
    return gpus;
  }

  @Test
  void theLeaderKilledLeavesEveryAcknowledgedTicketToTheStandbyAndCallsToRunningActorsNeverFail(Vertx vertx) throws Exception {
    SpokeClient client = startCluster(vertx);
    Allocation first = await(client.gangAllocate(new GangRequest().setTicketId("t-first").setActorsPerNode(1).setGpus(1)));
    Allocation second = await(client.gangAllocate(new GangRequest().setTicketId("t-second").setActorsPerNode(1).setGpus(1)));
    ActorHandle echo = await(client.spawn("Echo", "ha-echo"));
    processes.track(echo.info().pid());

    AtomicInteger ok = new AtomicInteger();
    List<Throwable> failed = new CopyOnWriteArrayList<>();
    AtomicBoolean running = new AtomicBoolean(true);
    Runnable[] loop = new Runnable[1];
    loop[0] = () -> {
      if (running.get()) {
        echo.call(TestActors.HELLO, "traffic", Serializers.STRING, Serializers.STRING).onComplete(ar -> {
          if (ar.succeeded()) {
            ok.incrementAndGet();
          } else {
            failed.add(ar.cause());
          }
          vertx.setTimer(2, t -> loop[0].run());
        });
      }
    };
    vertx.runOnContext(v -> loop[0].run());

    // A load balancer's view: the leader is ready, the standby is not, and says who leads.
    assertThat(get(0, "/ready")).startsWith("200");
    assertThat(get(1, "/ready")).startsWith("503").contains("standby").contains("127.0.0.1:" + ports[0] + " leads");
    assertThat(get(1, "/metrics")).contains("spoke_hub_leader 0.0");
    // The status names the leader and its standby (each hub's key under its lease).
    String leaderAddress = "127.0.0.1:" + ports[0];
    String standbyAddress = "127.0.0.1:" + ports[1];
    ClusterStatus both = awaitStatus(client, st -> st.hubs().size() == 2);
    assertThat(both.hubs()).containsExactly(new HubInfo(leaderAddress, true), new HubInfo(standbyAddress, false));
    assertThat(get(0, "/api/status")).contains("\"hubs\":[{\"address\":\"" + leaderAddress + "\",\"role\":\"leader\"}");

    hubs[0].destroyForcibly();
    assertThat(hubs[0].waitFor(10, TimeUnit.SECONDS)).isTrue();
    long killed = System.nanoTime();
    // Asked while no hub leads: the client asks again by itself until the new leader answers it.
    var during = client.gangAllocate(new GangRequest().setTicketId("t-third").setActorsPerNode(1).setGpus(2).setWaitForResources(true)
      .setTimeout(30_000));
    assertThat(awaitLeader(Set.of(1), 0)).isEqualTo(1);
    long tookOver = System.nanoTime();
    assertThat(get(1, "/ready")).startsWith("200");
    assertThat(get(1, "/metrics")).contains("spoke_hub_leader 1.0").contains("spoke_hub_leader_changes_total 1.0")
      .contains("spoke_hub_etcd_requests_seconds_count{outcome=\"ok\"}");

    // The agent found the new leader, which holds both tickets as acknowledged, on their GPUs.
    ClusterStatus after = awaitStatus(client, st -> st.nodes().stream().anyMatch(n -> n.id().equals("n1") && n.alive())
      && st.tickets().stream().filter(t -> t.ticketId().equals("t-first") || t.ticketId().equals("t-second")).count() == 2
      && st.actors().stream().anyMatch(a -> a.id().equals("ha-echo")));
    assertThat(after.tickets()).extracting(Allocation::ticketId).contains("t-first", "t-second").doesNotContain("t-fourth");
    // The killed hub drops out of the list once its lease expires.
    assertThat(awaitStatus(client, st -> st.hubs().size() == 1).hubs()).containsExactly(new HubInfo(standbyAddress, true));
    Set<Integer> held = new HashSet<>(gpus(first));
    held.addAll(gpus(second));
    for (Allocation ticket : after.tickets()) {
      if (!ticket.ticketId().equals("t-third")) {
        assertThat(gpus(ticket)).isEqualTo(ticket.ticketId().equals("t-first") ? gpus(first) : gpus(second));
      }
    }
    // Asked again after the failover (its answer lost, say), the same gang gets the first answer, not a second.
    Allocation again = await(client.gangAllocate(new GangRequest().setTicketId("t-first").setActorsPerNode(1).setGpus(1)));
    assertThat(gpus(again)).isEqualTo(gpus(first));
    // Nothing is handed out twice: the rest of the node's GPUs, and no more.
    Allocation third = await(during);
    assertThat(gpus(third)).hasSize(2).doesNotContainAnyElementsOf(held);
    Throwable full = awaitFailure(client.gangAllocate(new GangRequest().setTicketId("t-fourth").setActorsPerNode(1).setGpus(1)
      .setWaitForResources(false)));
    assertThat(full).isInstanceOf(SchedulingException.class);

    running.set(false);
    assertThat(failed).as("calls to a running actor while the leader fails over").isEmpty();
    assertThat(ok.get()).isGreaterThan(10);
    System.out.printf("failover: the standby led %d ms after the leader's SIGKILL%n", TimeUnit.NANOSECONDS.toMillis(tookOver - killed));
    // What etcd holds: one key per ticket, and the leader's key.
    String keys = etcd.etcdctl("get", "--prefix", "--keys-only", "/spoke/ha-it/");
    assertThat(keys).contains("/spoke/ha-it/t/t-first", "/spoke/ha-it/t/t-second", "/spoke/ha-it/t/t-third", "/spoke/ha-it/leader",
      "/spoke/ha-it/cluster");
  }

  @Test
  void aLeaderPausedPastItsLeaseAnswersNothingWritesNothingAndStandsByOnceResumed(Vertx vertx) throws Exception {
    SpokeClient client = startCluster(vertx);
    await(client.gangAllocate(new GangRequest().setTicketId("t-before").setActorsPerNode(1).setGpus(1)));
    // A client that knows only the leader, and asks it while it is paused.
    SpokeClient stale = client(vertx, List.of("127.0.0.1:" + ports[0]));
    await(stale.status());

    assertThat(new ProcessBuilder("kill", "-STOP", String.valueOf(hubs[0].pid())).start().waitFor()).isZero();
    try {
      var pausedAsk = stale.gangAllocate(new GangRequest().setTicketId("t-paused").setActorsPerNode(1).setGpus(1));
      assertThat(awaitLeader(Set.of(1), 0)).isEqualTo(1);
      // The agent left the silent hub for the new leader, which has the ticket acknowledged before.
      awaitStatus(client, st -> st.nodes().stream().anyMatch(n -> n.id().equals("n1") && n.alive())
        && st.tickets().stream().anyMatch(t -> t.ticketId().equals("t-before")));
      // A client that reaches the paused leader now: its connection waits in the kernel's queue until the hub resumes,
      // which then finds its lease gone. It must not be served by the hub that no longer leads.
      Set<String> before = peers(ports[0]);
      SpokeClient late = client(vertx, List.of("127.0.0.1:" + ports[0]));
      var lateAsk = late.status();
      long queuedBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (before.containsAll(peers(ports[0])) && System.nanoTime() < queuedBy) {
        Thread.sleep(10);
      }
      assertThat(peers(ports[0])).as("the late client's connection waits in the paused hub's queue").isNotEqualTo(before);
      assertThat(new ProcessBuilder("kill", "-CONT", String.valueOf(hubs[0].pid())).start().waitFor()).isZero();
      Throwable lateFailure = lateAsk.transform(ar -> Future.succeededFuture(ar.failed() ? ar.cause() : null))
        .await(30, TimeUnit.SECONDS);
      if (lateFailure != null) {
        assertThat(lateFailure).as("what the resumed hub answers a connection made while it was paused")
          .isInstanceOf(NotLeaderException.class);
      } else {
        ClusterStatus lateAnswer = lateAsk.result();
        assertThat(lateAnswer.hubs()).as("answered by the leader, not by the resumed hub").isNotEmpty();
        assertThat(lateAnswer.hubs().get(0)).isEqualTo(new HubInfo("127.0.0.1:" + ports[1], true));
      }

      // Resumed, it finds its lease gone: the request it read while paused is not granted, and it stands by.
      Throwable refused = awaitFailure(pausedAsk, 60, TimeUnit.SECONDS);
      assertThat(refused).as("what the paused leader answers once resumed").isNotInstanceOf(TimeoutException.class);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!output(0).contains("no longer leads") && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(output(0)).contains("no longer leads");
    } finally {
      new ProcessBuilder("kill", "-CONT", String.valueOf(hubs[0].pid())).start().waitFor();
    }
    assertThat(etcd.etcdctl("get", "--prefix", "--keys-only", "/spoke/ha-it/t/")).doesNotContain("t-paused")
      .contains("/spoke/ha-it/t/t-before");
    ClusterStatus now = awaitStatus(client, st -> st.tickets().stream().anyMatch(t -> t.ticketId().equals("t-before")));
    assertThat(now.tickets()).extracting(Allocation::ticketId).doesNotContain("t-paused");
    // Asked now, the old leader says who leads; a client of it alone follows it there.
    SpokeClient follower = client(vertx, List.of("127.0.0.1:" + ports[0]));
    ClusterStatus followed = awaitStatus(follower, st -> st.tickets().stream().anyMatch(t -> t.ticketId().equals("t-before")));
    assertThat(followed.nodes()).extracting(n -> n.id()).contains("n1");
    assertThat(count(output(0), "leads and serves on port")).isEqualTo(1);
  }

  @Test
  void aStandbyAloneAnswersThatNoHubLeadsWithTheTypedRefusal(Vertx vertx) throws Exception {
    for (int i = 0; i < 2; i++) {
      try (ServerSocket socket = new ServerSocket(0)) {
        ports[i] = socket.getLocalPort();
      }
    }
    startHub(0);
    awaitLeader(Set.of(0), 0);
    startHub(1);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!output(1).contains("Spoke hub listening on") && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    // Both etcd members but one gone: no quorum, so the leader cannot renew its lease and stops leading.
    etcd.kill(1);
    etcd.kill(2);
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!output(0).contains("no longer leads") && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(output(0)).contains("no longer leads");
    SpokeClient client = client(vertx, List.of("127.0.0.1:" + ports[0], "127.0.0.1:" + ports[1]));
    Throwable refused = awaitFailure(client.status());
    assertThat(refused).isInstanceOf(NotLeaderException.class).hasMessageContaining("no hub of 2").hasMessageContaining("standby");
    // Quorum back: a hub leads again by itself.
    etcd.restart(1);
    etcd.restart(2);
    awaitStatus(client, st -> true);
  }
}
