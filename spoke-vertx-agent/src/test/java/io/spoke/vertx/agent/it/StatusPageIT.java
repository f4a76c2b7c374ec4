// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static io.spoke.vertx.test.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.Browser;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The hub's status page in a real headless Chromium: logged in with the cluster token, it shows both nodes and
 * their GPUs; an actor spawned, killed and followed appears, changes state and shows its log, all without a reload
 * (a marker set in the page survives every step). A screenshot of each step goes to
 * {@code target/status-page/}.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class StatusPageIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);

  private static final Path SHOTS = Paths.get("target", "status-page");

  @Test
  void thePageShowsNodesAndFollowsAnActorsLifeAndLogWithoutAReload(Vertx vertx) throws Exception {
    cluster.start(vertx, new HubOptions().setHttpPort(0));
    cluster.startAgent(new AgentOptions().setNodeId("page-n1").setGpus(2));
    cluster.startAgent(new AgentOptions().setNodeId("page-n2").setGpus(2));
    SpokeClient client = cluster.client();
    String hub = cluster.hub().httpUrl();
    Files.createDirectories(SHOTS);

    try (Browser browser = Browser.start(vertx, processes)) {
      browser.navigate(hub);
      // Without the cookie the page sends the browser to its login; the token logs it in.
      browser.waitFor("the login form", "location.pathname === '/login' && document.querySelector('input[name=token]')");
      browser.eval("document.querySelector('input[name=token]').value = " + io.vertx.core.json.Json.encode(TestCluster.TOKEN)
        + "; document.querySelector('form').submit(); true");
      browser.waitFor("the live page", "location.pathname === '/' && document.getElementById('live').textContent === 'live'");
      browser.eval("window.spokeMarker = 'no reload'; true");

      browser.waitFor("both nodes and their four GPUs", "document.querySelectorAll('#nodes tbody tr').length === 2"
        + " && document.querySelectorAll('#nodes .gpu.free').length === 4");
      assertThat(browser.eval("document.querySelector('[data-node=\"page-n1\"] .state').textContent")).isEqualTo("alive");
      browser.screenshot(SHOTS.resolve("1-nodes.png"));

      ActorHandle actor = cluster.spawn(client, "Echo", "page-actor", new SpawnOptions().setGpus(1));
      long pid = processes.track(actor.info().pid());
      String row = "document.querySelector('[data-actor=\"page-actor\"]')";
      browser.waitFor("the spawned actor running, with its pid and a used GPU", row + " && " + row
        + ".querySelector('.state').textContent === 'running' && " + row + ".textContent.includes('" + pid + "')"
        + " && document.querySelectorAll('#nodes .gpu.used').length === 1");
      assertThat(browser.eval("document.querySelector('#nodes .gpu.used').title")).asString().contains("page-actor");
      browser.screenshot(SHOTS.resolve("2-spawned.png"));

      // A gang's ticket: its ranks, their nodes and GPUs, and the GPUs shown as held by it.
      await(client.gangAllocate(new io.spoke.vertx.client.GangRequest().setTicketId("page-ticket").setNodes(2).setActorsPerNode(1)
        .setGpus(1).setStrategy(io.spoke.vertx.client.PlacementStrategy.STRICT_SPREAD)));
      String ticket = "document.querySelector('[data-ticket=\"page-ticket\"]')";
      browser.waitFor("the ticket with its two ranks", ticket + " && " + ticket + ".textContent.includes('page-n1') && " + ticket
        + ".textContent.includes('page-n2') && document.querySelectorAll('#nodes .gpu.used').length === 3");
      browser.screenshot(SHOTS.resolve("2b-ticket.png"));
      await(client.release("page-ticket"));
      browser.waitFor("the released ticket gone", "!" + ticket + " && document.querySelectorAll('#nodes .gpu.used').length === 1");

      String line = "hello from page-actor " + System.nanoTime();
      assertThat(await(actor.call(TestActors.SAY, line, Serializers.STRING, Serializers.STRING))).isEqualTo(line);
      browser.eval("document.querySelector('[data-log=\"page-actor\"]').click(); true");
      browser.waitFor("the line the actor printed, in its log tail", "document.getElementById('log').textContent.includes('" + line + "')");
      // The tail follows: a line printed now shows up too.
      String later = "and later " + System.nanoTime();
      await(actor.call(TestActors.SAY, later, Serializers.STRING, Serializers.STRING));
      browser.waitFor("a line printed after the tail opened", "document.getElementById('log').textContent.includes('" + later + "')");
      browser.screenshot(SHOTS.resolve("3-log.png"));

      ProcessHandle.of(pid).orElseThrow().destroyForcibly();
      until("the hub to see page-actor die", () -> await(client.resolve("page-actor")).state() == ActorState.EXITED);
      browser.waitFor("the killed actor exited, its GPU free again", row + " && " + row
        + ".querySelector('.state').textContent === 'exited' && " + row + ".textContent.includes('SIGKILL')"
        + " && document.querySelectorAll('#nodes .gpu.free').length === 4");
      browser.screenshot(SHOTS.resolve("4-killed.png"));
      assertThat(browser.eval("window.spokeMarker")).as("the page was never reloaded").isEqualTo("no reload");
    }
    for (String shot : new String[] {"1-nodes.png", "2-spawned.png", "2b-ticket.png", "3-log.png", "4-killed.png"}) {
      assertThat(Files.size(SHOTS.resolve(shot))).as(shot).isGreaterThan(5_000);
    }
  }
}
