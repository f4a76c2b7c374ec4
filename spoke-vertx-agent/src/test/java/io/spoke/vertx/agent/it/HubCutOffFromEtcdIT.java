// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static io.spoke.vertx.test.Await.awaitFailure;
import static io.spoke.vertx.testkit.HubProcesses.awaitLine;
import static io.spoke.vertx.testkit.HubProcesses.awaitStatus;
import static io.spoke.vertx.testkit.HubProcesses.java;
import static io.spoke.vertx.testkit.HubProcesses.loggedAt;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.spoke.vertx.NotLeaderException;
import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.HubInfo;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.EtcdCluster;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.File;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The leader cut off from etcd, and from nothing else. Two "hosts" (network namespaces, {@code scripts/netns-cluster.sh};
 * root only, as CI runs): the leader in one, an etcd member in the other; the other two members and the standby on this
 * machine, etcd on an address of its own (10.213.0.2, on the bridge). Blackhole routes in the leader's namespace drop
 * everything it sends to etcd while its agent and clients still reach it: it stops leading when its lease's validity
 * runs out (before etcd lets the lease expire, so before the standby is elected), answers with the typed refusal, and the
 * standby takes over with the tickets; once the routes are gone, it stands by again, listed as a standby.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class HubCutOffFromEtcdIT {

  private static final String PREFIX = "spokeha";
  private static final String HOST0 = "10.213.0.1";
  /** This machine's second address on the bridge, for etcd alone: the leader's namespace can drop it and keep HOST0. */
  private static final String ETCD_HOST = "10.213.0.2";
  private static final String LEADER_HOST = "10.213.0.11";
  private static final String MEMBER_HOST = "10.213.0.12";
  private static final Path SCRIPT = Paths.get("..", "scripts", "netns-cluster.sh").toAbsolutePath().normalize();
  private static final long TTL_MS = 2_000;

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  private final List<SpokeClient> clients = new ArrayList<>();
  private EtcdCluster etcd;
  private Path dir;
  private Path token;

  private static String run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s: %s", String.join(" ", command), output).isZero();
    return output;
  }

  private static List<String> in(int host) {
    return List.of("ip", "netns", "exec", PREFIX + "-" + host);
  }

  @BeforeEach
  void hosts() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "network namespaces need root (CI runs as root)");
    assumeTrue(new File("/usr/sbin/ip").canExecute() || new File("/sbin/ip").canExecute(), "network namespaces need iproute2");
    assumeTrue(EtcdCluster.available(), "etcd is not installed (apt-get install etcd-server etcd-client)");
    run(SCRIPT.toString(), "down", PREFIX);
    run(SCRIPT.toString(), "up", "2", PREFIX);
    run("ip", "addr", "add", ETCD_HOST + "/24", "dev", "spk-br0");
    dir = Files.createTempDirectory("spoke-ha-cut");
    token = dir.resolve("cluster.token");
    Files.writeString(token, TestCluster.TOKEN + "\n");
    EtcdCluster.Member here = new EtcdCluster.Member(ETCD_HOST, List.of());
    etcd = EtcdCluster.start(processes::track, dir, List.of(here, here, new EtcdCluster.Member(MEMBER_HOST, in(2))), null);
  }

  @AfterEach
  void removeHosts() throws Exception {
    for (SpokeClient client : clients) {
      client.close().await(30, TimeUnit.SECONDS);
    }
    if (etcd != null) {
      etcd.close();
    }
    if ("root".equals(System.getProperty("user.name"))) {
      run(SCRIPT.toString(), "down", PREFIX);
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private Process hub(String name, List<String> launcher, String host, int port) throws Exception {
    return java(processes, dir.resolve(name + ".out"), launcher, "io.spoke.vertx.hub.HubMain", "--host", host, "--port",
      String.valueOf(port), "--token-file", token.toString(), "--heartbeat-interval", "200", "--node-timeout", "5000", "--http-port", "0",
      "--etcd", etcd.endpoints(), "--etcd-prefix", "/spoke/cut-it", "--lease-ttl", String.valueOf(TTL_MS));
  }

  private SpokeClient client(Vertx vertx, List<String> hubs) {
    SpokeClient client = SpokeClient.create(vertx, new SpokeClientOptions().setHubAddresses(hubs).setRequestTimeout(5_000)
      .setLocalSockets(false).setSecurity(new SecurityOptions().setTokenFile(token.toString())));
    clients.add(client);
    return client;
  }

  /** GET {@code path} of the hub whose output is {@code out}, at the front its standby logged. */
  private String get(Path out, String path) throws Exception {
    Matcher url = Pattern.compile("the hub \\(standby\\) serves HTTP on (http://\\S+)").matcher(Files.readString(out));
    assertThat(url.find()).as("%s serves HTTP", out).isTrue();
    HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url.group(1) + path))
      .header("Authorization", "Bearer " + TestCluster.TOKEN).build(), HttpResponse.BodyHandlers.ofString());
    return response.statusCode() + " " + response.body();
  }

  private void route(String action, String to) throws Exception {
    List<String> command = new ArrayList<>(in(1));
    command.addAll(List.of("ip", "route", action, "blackhole", to + "/32"));
    run(command.toArray(new String[0]));
  }

  @Test
  void aLeaderCutOffFromEtcdStopsLeadingBeforeTheStandbyIsElectedAndStandsByOnceItsRoutesAreBack(Vertx vertx) throws Exception {
    int leaderPort = freePort();
    int standbyPort = freePort();
    String leader = LEADER_HOST + ":" + leaderPort;
    String standby = HOST0 + ":" + standbyPort;
    Path leaderOut = dir.resolve("hub-cut.out");
    Path standbyOut = dir.resolve("hub-standby.out");
    hub("hub-cut", in(1), LEADER_HOST, leaderPort);
    awaitLine(leaderOut, "leads and serves on port", 0);
    hub("hub-standby", List.of(), HOST0, standbyPort);
    awaitLine(standbyOut, "Spoke hub listening on", 0);
    java(processes, dir.resolve("agent.out"), List.of(), "io.spoke.vertx.agent.AgentMain", "--hub", leader + "," + standby,
      "--node-id", "n1", "--gpus", "4", "--token-file", token.toString(), "--log-dir", dir.resolve("logs").toString(),
      "--reconnect-interval", "100", "--stop-timeout", "2000");
    SpokeClient client = client(vertx, List.of(leader, standby));
    awaitStatus(client, st -> st.nodes().stream().anyMatch(n -> n.id().equals("n1") && n.alive()) && st.hubs().size() == 2);
    Allocation before = await(client.gangAllocate(new GangRequest().setTicketId("t-before").setActorsPerNode(1).setGpus(1)));

    // Everything the leader sends to etcd is dropped (no reset, no error: as a switch that lost a link); the rest flows.
    route("add", ETCD_HOST);
    route("add", MEMBER_HOST);
    awaitLine(leaderOut, "no longer leads", 0);
    awaitLine(standbyOut, "leads the cluster", 0);
    long stoppedAt = loggedAt(leaderOut, "no longer leads", 0);
    long electedAt = loggedAt(standbyOut, "leads the cluster", 0);
    assertThat(stoppedAt).as("the cut-off leader stops leading (%s) before the standby is elected (%s)", stoppedAt, electedAt)
      .isLessThanOrEqualTo(electedAt < stoppedAt - 43_200_000 ? electedAt + 86_400_000 : electedAt);
    assertThat(Files.readString(leaderOut)).contains("could not renew its etcd lease within its TTL of " + TTL_MS + " ms");

    // Still reachable, it refuses: a client of it alone gets the typed refusal, a load balancer a 503.
    SpokeClient stale = client(vertx, List.of(leader));
    Throwable refused = awaitFailure(stale.status());
    assertThat(refused).isInstanceOf(NotLeaderException.class).hasMessageContaining("standby");
    assertThat(get(leaderOut, "/ready")).startsWith("503");
    // The agent and the client went on to the new leader, which has the ticket on its GPUs and allocates.
    ClusterStatus after = awaitStatus(client, st -> st.nodes().stream().anyMatch(n -> n.id().equals("n1") && n.alive())
      && st.tickets().stream().anyMatch(t -> t.ticketId().equals("t-before")) && st.hubs().size() == 1);
    assertThat(after.hubs()).containsExactly(new HubInfo(standby, true));
    assertThat(after.tickets().stream().filter(t -> t.ticketId().equals("t-before")).findFirst().orElseThrow().slots().get(0).gpuIds())
      .isEqualTo(before.slots().get(0).gpuIds());
    await(client.gangAllocate(new GangRequest().setTicketId("t-after").setActorsPerNode(1).setGpus(1)));

    // Routes back: it finds another hub leads, and stands by under a new lease, listed as the standby.
    route("del", ETCD_HOST);
    route("del", MEMBER_HOST);
    ClusterStatus healed = awaitStatus(client, st -> st.hubs().size() == 2);
    assertThat(healed.hubs()).containsExactly(new HubInfo(standby, true), new HubInfo(leader, false));
    assertThat(Files.readString(leaderOut)).containsOnlyOnce("leads and serves on port");
    // Asked again, it names the leader, and its client follows it there.
    assertThat(awaitStatus(stale, st -> st.hubs().size() == 2).hubs()).containsExactly(new HubInfo(standby, true), new HubInfo(leader, false));
  }
}
