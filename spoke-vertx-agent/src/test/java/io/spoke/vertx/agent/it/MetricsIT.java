// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static io.spoke.vertx.test.Await.until;
import static io.spoke.vertx.testkit.Http.sum;
import static io.spoke.vertx.testkit.Http.value;
import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.AgentVerticle;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.NodeInfo;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.Http;
import io.spoke.vertx.testkit.Http.Sample;
import io.spoke.vertx.testkit.TestCluster;
import io.spoke.vertx.web.Metrics;
import io.spoke.vertx.web.WebFront;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The hub's and agents' HTTP side, scraped for real: {@code /metrics} parsed by Prometheus's own parser and checked
 * against the cluster's state after spawns, a gang, a kill and a restart; {@code /health} and {@code /ready}; and
 * the token, bad paths, methods, heads and bytes, after which the servers still serve.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class MetricsIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);

  private static long pid(ActorHandle actor) throws Exception {
    return processes.track(await(actor.call(TestActors.PID, null, Serializers.VOID, Serializers.LONG)));
  }

  @Test
  void metricsTellTheClustersStateAfterSpawnsAGangAKillAndARestart(Vertx vertx) throws Exception {
    cluster.start(vertx, new HubOptions().setHttpPort(0));
    AgentVerticle m1 = cluster.startAgent(new AgentOptions().setNodeId("m1").setGpus(2).setHttpPort(0));
    AgentVerticle m2 = cluster.startAgent(new AgentOptions().setNodeId("m2").setGpus(2).setHttpPort(0));
    String hub = cluster.hub().httpUrl();
    String token = TestCluster.TOKEN;
    SpokeClient client = cluster.client();

    ActorHandle gpuActor = cluster.spawn(client, "Echo", "m-gpu", new SpawnOptions().setGpus(1));
    processes.track(gpuActor.info().pid());
    await(client.gangAllocate(new GangRequest().setTicketId("t-metrics").setGpus(1)));
    ActorHandle phoenix = cluster.spawn(client, "Echo", "m-phoenix", new SpawnOptions()
      .setRestart(RestartPolicy.onFailure(1).withBackoffMs(100)));
    long first = pid(phoenix);
    ActorHandle doomed = cluster.spawn(client, "Echo", "m-doomed");
    long doomedPid = processes.track(doomed.info().pid());

    ProcessHandle.of(first).orElseThrow().destroyForcibly();
    until("m-phoenix to run again", () -> {
      ActorInfo now = await(client.resolve("m-phoenix"));
      return now.state() == ActorState.RUNNING && now.pid() != first;
    });
    pid(phoenix);
    ProcessHandle.of(doomedPid).orElseThrow().destroyForcibly();
    until("m-doomed to be gone", () -> await(client.resolve("m-doomed")).state() == ActorState.EXITED);

    ClusterStatus status = await(client.status());
    List<Sample> metrics = Http.scrape(hub, token);
    assertThat(value(metrics, "spoke_hub_nodes", "state", "alive")).isEqualTo(2);
    assertThat(value(metrics, "spoke_hub_nodes", "state", "dead")).isEqualTo(0);
    for (NodeInfo node : status.nodes()) {
      assertThat(value(metrics, "spoke_hub_node_gpus", "node", node.id(), "state", "free")).as(node.id()).isEqualTo(node.freeGpus().size());
      assertThat(value(metrics, "spoke_hub_node_gpus", "node", node.id(), "state", "used")).as(node.id())
        .isEqualTo(node.gpus().size() - node.freeGpus().size());
    }
    assertThat(sum(metrics, "spoke_hub_node_gpus", "state", "used")).as("one actor's GPU and one rank's").isEqualTo(2);
    assertThat(value(metrics, "spoke_hub_tickets", "state", "allocated")).isEqualTo(1);
    assertThat(value(metrics, "spoke_hub_tickets", "state", "pending")).isEqualTo(0);
    assertThat(value(metrics, "spoke_hub_actors", "kind", "actor", "state", "running")).isEqualTo(2).isEqualTo(status.actors().size());
    assertThat(value(metrics, "spoke_hub_restarts_total", "kind", "in_place")).isEqualTo(1);
    assertThat(value(metrics, "spoke_hub_restarts_total", "kind", "gang")).isEqualTo(0);
    assertThat(value(metrics, "spoke_hub_actor_exits_total", "reason", "killed")).isEqualTo(1);
    assertThat(value(metrics, "spoke_hub_actor_exits_total", "reason", "stopped")).isEqualTo(0);
    assertThat(value(metrics, "spoke_hub_requests_seconds_count", "type", "Spawn")).isEqualTo(3);
    assertThat(value(metrics, "spoke_hub_requests_seconds_count", "type", "GangAllocate")).isEqualTo(1);
    assertThat(value(metrics, "spoke_hub_requests_seconds_count", "type", "RegisterNode")).isEqualTo(2);
    assertThat(value(metrics, "spoke_hub_gang_allocation_seconds_count")).isEqualTo(1);
    assertThat(value(metrics, "spoke_hub_connections")).as("two agents and the client").isEqualTo(3);

    // The agents: three Java spawns between them (the restart is not a spawn), two actors running, their memory.
    List<Sample> a1 = Http.scrape(m1.httpUrl(), token);
    List<Sample> a2 = Http.scrape(m2.httpUrl(), token);
    assertThat(sum(a1, "spoke_agent_spawn_seconds_count") + sum(a2, "spoke_agent_spawn_seconds_count")).isEqualTo(3);
    assertThat(sum(a1, "spoke_agent_spawn_failures_total") + sum(a2, "spoke_agent_spawn_failures_total")).isEqualTo(0);
    assertThat(sum(a1, "spoke_agent_actors", "state", "running") + sum(a2, "spoke_agent_actors", "state", "running")).isEqualTo(2);
    String gpuNode = gpuActor.info().nodeId();
    AgentVerticle holder = gpuNode.equals("m1") ? m1 : m2;
    until("the agent to sample m-gpu's memory", () -> !Double.isNaN(value(Http.scrape(holder.httpUrl(), token),
      "spoke_agent_actor_rss_bytes", "actor", "m-gpu")));
    List<Sample> held = Http.scrape(holder.httpUrl(), token);
    assertThat(value(held, "spoke_agent_actor_rss_bytes", "actor", "m-gpu")).as("a JVM's resident memory").isGreaterThan(20e6);
    assertThat(value(held, "spoke_agent_log_bytes", "actor", "m-gpu")).isGreaterThan(0);
    assertThat(value(held, "spoke_agent_actor_rss_bytes", "actor", "m-doomed")).as("a dead actor is not listed").isNaN();

    assertThat(Http.get(hub + "health", null).statusCode()).as("health needs the token too").isEqualTo(401);
    assertThat(Http.get(hub + "health", token).body()).contains("\"ok\"");
    assertThat(Http.get(hub + "ready", token).statusCode()).isEqualTo(200);
    assertThat(Http.get(m1.httpUrl() + "ready", token).statusCode()).isEqualTo(200);
    await(client.release("t-metrics"));
  }

  @Test
  void callsAreCountedPerActorAndMethodInTheirActorHostAndScrapedThroughItsAgent(Vertx vertx) throws Exception {
    cluster.start(vertx, new HubOptions().setHttpPort(-1));
    AgentVerticle agent = cluster.startAgent(new AgentOptions().setNodeId("c1").setHttpPort(0));
    SpokeClient client = cluster.client();
    ActorHandle actor = cluster.spawn(client, "Echo", "m-calls");
    processes.track(actor.info().pid());
    ActorHandle quiet = cluster.spawn(client, "Echo", "m-quiet", new SpawnOptions().setJvmOptions(List.of("-Dspoke.callMetrics=false")));
    processes.track(quiet.info().pid());

    for (int i = 0; i < 5; i++) {
      assertThat(await(actor.call(TestActors.HELLO, "m" + i, Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, m" + i + "!");
      await(quiet.call(TestActors.HELLO, "q", Serializers.STRING, Serializers.STRING));
    }
    for (int i = 0; i < 2; i++) {
      assertThat(actor.call(TestActors.FAIL, "x", Serializers.STRING, Serializers.STRING).toCompletionStage().toCompletableFuture())
        .failsWithin(java.time.Duration.ofSeconds(10));
    }
    assertThat(await(actor.call(TestActors.SLOW, 300L, Serializers.LONG, Serializers.STRING))).isEqualTo("slept");
    assertThat(actor.call(999, "x", Serializers.STRING, Serializers.STRING).toCompletionStage().toCompletableFuture())
      .failsWithin(java.time.Duration.ofSeconds(10));

    String[] hello = {"actor", "m-calls", "type", "Echo", "method", Integer.toString(TestActors.HELLO)};
    until("the agent to read m-calls' calls", () -> value(Http.scrape(agent.httpUrl(), TestCluster.TOKEN), "spoke_actor_calls_total",
      "actor", "m-calls", "type", "Echo", "method", Integer.toString(TestActors.SLOW)) == 1);
    List<Sample> metrics = Http.scrape(agent.httpUrl(), TestCluster.TOKEN);
    assertThat(value(metrics, "spoke_actor_calls_total", hello)).isEqualTo(5);
    assertThat(value(metrics, "spoke_actor_call_errors_total", hello)).isEqualTo(0);
    assertThat(value(metrics, "spoke_actor_call_seconds_count", hello)).isEqualTo(5);
    assertThat(value(metrics, "spoke_actor_call_seconds_bucket", with(hello, "le", "0.25"))).as("quick calls").isEqualTo(5);
    String[] fail = {"actor", "m-calls", "type", "Echo", "method", Integer.toString(TestActors.FAIL)};
    assertThat(value(metrics, "spoke_actor_calls_total", fail)).isEqualTo(2);
    assertThat(value(metrics, "spoke_actor_call_errors_total", fail)).isEqualTo(2);
    String[] slow = {"actor", "m-calls", "type", "Echo", "method", Integer.toString(TestActors.SLOW)};
    assertThat(value(metrics, "spoke_actor_call_seconds_bucket", with(slow, "le", "0.25"))).as("a call of 300 ms").isEqualTo(0);
    assertThat(value(metrics, "spoke_actor_call_seconds_bucket", with(slow, "le", "0.5"))).isEqualTo(1);
    assertThat(value(metrics, "spoke_actor_call_seconds_bucket", with(slow, "le", "+Inf"))).isEqualTo(1);
    assertThat(value(metrics, "spoke_actor_call_seconds_sum", slow)).isBetween(0.3, 0.5);
    assertThat(value(metrics, "spoke_actor_calls_refused_total", "actor", "m-calls", "type", "Echo")).as("method 999").isEqualTo(1);
    assertThat(value(metrics, "spoke_actor_calls_total", "actor", "m-quiet", "type", "Echo", "method", Integer.toString(TestActors.HELLO)))
      .as("an actor started with -Dspoke.callMetrics=false counts nothing").isNaN();

    await(client.stop("m-calls"));
    assertThat(value(Http.scrape(agent.httpUrl(), TestCluster.TOKEN), "spoke_actor_calls_total", hello)).as("a stopped actor is not listed")
      .isNaN();
  }

  private static String[] with(String[] labels, String key, String value) {
    String[] out = java.util.Arrays.copyOf(labels, labels.length + 2);
    out[labels.length] = key;
    out[labels.length + 1] = value;
    return out;
  }

  @Test
  void withATokenEveryRequestNeedsItAndBadRequestsAreRefusedWhileTheServersGoOn(Vertx vertx) throws Exception {
    cluster.start(vertx, new HubOptions().setHttpPort(0));
    AgentVerticle agent = cluster.startAgent(new AgentOptions().setNodeId("s1").setGpus(1).setHttpPort(0));
    String hub = cluster.hub().httpUrl();
    String token = TestCluster.TOKEN;

    for (String path : List.of("metrics", "", "api/status", "api/events", "api/logs/x")) {
      assertThat(Http.get(hub + path, null).statusCode()).as(path + " without a token").isEqualTo(401);
      assertThat(Http.get(hub + path, "wrong-token-of-some-length").statusCode()).as(path + " with a wrong token").isEqualTo(401);
    }
    assertThat(Http.get(agent.httpUrl() + "metrics", null).statusCode()).isEqualTo(401);
    // A browser is sent to the login page; the right token sets a cookie that opens the page, a wrong one does not.
    HttpResponse<String> browser = Http.send(HttpRequest.newBuilder(URI.create(hub)).header("Accept", "text/html").GET().build());
    assertThat(browser.statusCode()).isEqualTo(302);
    assertThat(browser.headers().firstValue("location")).hasValue("/login");
    HttpResponse<String> wrong = Http.send(login(hub, "not-the-token-at-all"));
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(wrong.headers().firstValue("set-cookie")).isEmpty();
    HttpResponse<String> loggedIn = Http.send(login(hub, token));
    assertThat(loggedIn.statusCode()).isEqualTo(303);
    String cookie = loggedIn.headers().firstValue("set-cookie").orElseThrow();
    assertThat(cookie).containsIgnoringCase("HttpOnly").contains("SameSite=Strict").doesNotContain(token);
    HttpResponse<String> page = Http.send(HttpRequest.newBuilder(URI.create(hub)).header("Cookie", cookie.split(";")[0]).GET().build());
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("<h1>Spoke</h1>");
    HttpResponse<String> forged = Http.send(HttpRequest.newBuilder(URI.create(hub + "metrics")).header("Cookie", "spoke_session=forged")
      .GET().build());
    assertThat(forged.statusCode()).isEqualTo(401);

    assertThat(Http.get(hub + "no/such/path", token).statusCode()).isEqualTo(404);
    assertThat(Http.send(HttpRequest.newBuilder(URI.create(hub + "metrics")).header("Authorization", "Bearer " + token)
      .DELETE().build()).statusCode()).isEqualTo(405);
    assertThat(Http.get(hub + "api/logs/no-such-actor", token).statusCode()).isEqualTo(404);
    assertThat(Http.get(hub + "api/logs/x?offset=oops", token).statusCode()).isEqualTo(400);
    assertThat(Http.send(HttpRequest.newBuilder(URI.create(hub + "health")).header("Authorization", "Bearer " + token)
      .header("X-Huge", "a".repeat(20_000)).GET().build()).statusCode()).isEqualTo(431);
    // Garbage instead of HTTP, and a request cut off mid-head.
    URI uri = URI.create(hub);
    for (byte[] junk : List.of("\u0000\u0001\u0002garbage\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1),
      "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthoriz".getBytes(StandardCharsets.US_ASCII))) {
      try (Socket socket = new Socket(uri.getHost(), uri.getPort())) {
        socket.getOutputStream().write(junk);
        socket.getOutputStream().flush();
      }
    }

    // The HTTP refusals were counted; and everything still serves, HTTP and the cluster's own protocol.
    List<Sample> metrics = Http.scrape(hub, token);
    assertThat(value(metrics, "spoke_http_auth_failures_total")).isGreaterThanOrEqualTo(12);
    assertThat(Http.get(hub + "health", token).statusCode()).isEqualTo(200);
    assertThat(Http.get(agent.httpUrl() + "health", token).statusCode()).isEqualTo(200);
    ActorHandle actor = cluster.spawn(cluster.client(), "Echo", "after-junk");
    processes.track(actor.info().pid());
    assertThat(await(actor.call(TestActors.HELLO, "web", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, web!");
  }

  @Test
  void wrongTokensAtTheLoginTurnTheAddressAwayForAWhile(Vertx vertx) throws Exception {
    cluster.start(vertx, new HubOptions().setHttpPort(0));
    String hub = cluster.hub().httpUrl();
    // Five wrong tokens within a minute, as on the protocol's side: then even the right one is turned away for a while.
    for (int i = 0; i < 5; i++) {
      assertThat(Http.send(login(hub, "guess-" + i)).statusCode()).as("guess " + i).isEqualTo(401);
    }
    HttpResponse<String> turnedAway = Http.send(login(hub, TestCluster.TOKEN));
    assertThat(turnedAway.statusCode()).isEqualTo(429);
    assertThat(turnedAway.headers().firstValue("retry-after")).isPresent();
    assertThat(turnedAway.body()).contains("too many wrong tokens from 127.0.0.1");
    assertThat(turnedAway.headers().firstValue("set-cookie")).isEmpty();
    // The API, with the token, is served meanwhile.
    assertThat(Http.get(hub + "health", TestCluster.TOKEN).statusCode()).isEqualTo(200);
  }

  @Test
  void aHandlerThatFailsAnswers500WithoutWhatWentWrong(Vertx vertx) throws Exception {
    io.vertx.core.Promise<WebFront> started = io.vertx.core.Promise.promise();
    vertx.runOnContext(v -> WebFront.start(vertx, "the test", "127.0.0.1", 0, false, new SecurityOptions(), null, Metrics.newRegistry(),
      () -> { }, null, null, router -> router.get("/boom").handler(rc -> {
        throw new IllegalStateException("a secret path /etc/spoke/cluster.token");
      })).onComplete(started));
    WebFront front = await(started.future());
    HttpResponse<String> boom = Http.get(front.url() + "boom", null);
    assertThat(boom.statusCode()).isEqualTo(500);
    assertThat(boom.body()).isEqualTo("internal error; the test's log has the details\n").doesNotContain("secret");
    assertThat(Http.get(front.url() + "health", null).statusCode()).isEqualTo(200);
    await(front.close());
  }

  private static HttpRequest login(String hub, String token) {
    return HttpRequest.newBuilder(URI.create(hub + "login")).header("Content-Type", "application/x-www-form-urlencoded")
      .POST(HttpRequest.BodyPublishers.ofString("token=" + java.net.URLEncoder.encode(token, StandardCharsets.UTF_8))).build();
  }
}
