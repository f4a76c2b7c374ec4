// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Many clients with many calls in flight each, against several actor processes: every call gets its own answer. */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class ConcurrentClientsIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    cluster.start(vertx);
    cluster.startAgent(new AgentOptions().setGpus(0));
  }

  @Test
  void everyCallOfEveryClientGetsItsOwnAnswer() throws Exception {
    SpokeClient spawner = cluster.client();
    List<String> actors = List.of("a0", "a1");
    List<Future<?>> spawns = new ArrayList<>();
    for (String id : actors) {
      spawns.add(spawner.spawn("Echo", id).onSuccess(actor -> processes.track(actor.info().pid())));
    }
    await(Future.all(spawns));

    int clients = 8;
    int callsPerClient = 250;
    List<Future<Void>> checks = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      SpokeClient client = cluster.client();
      for (int i = 0; i < callsPerClient; i++) {
        String actor = actors.get((c + i) % actors.size());
        String name = "client" + c + "-call" + i;
        checks.add(client.call(actor, TestActors.HELLO, name, Serializers.STRING, Serializers.STRING).map(reply -> {
          assertThat(reply).isEqualTo("Hello, " + name + "!");
          return null;
        }));
      }
    }
    await(Future.all(checks));
    assertThat(checks).allMatch(Future::succeeded).hasSize(clients * callsPerClient);
  }
}
