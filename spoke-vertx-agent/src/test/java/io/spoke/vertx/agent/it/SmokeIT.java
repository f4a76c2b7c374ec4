package io.spoke.vertx.agent.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.AgentVerticle;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.hub.HubVerticle;
import io.spoke.vertx.serialization.Serializers;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SmokeIT {

  @Test
  void spawnCallStop() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      HubVerticle hub = new HubVerticle(new HubOptions().setPort(0));
      vertx.deployVerticle(hub).await(10, TimeUnit.SECONDS);
      Path logs = Files.createTempDirectory("spoke-logs");
      AgentVerticle agent = new AgentVerticle(new AgentOptions().setHubPort(hub.actualPort()).setGpus(2).setLogDir(logs.toString()));
      vertx.deployVerticle(agent).await(10, TimeUnit.SECONDS);
      agent.registered().await(10, TimeUnit.SECONDS);
      SpokeClient client = SpokeClient.create(vertx, new SpokeClientOptions().setHubPort(hub.actualPort()));
      long t0 = System.nanoTime();
      ActorHandle actor = client.spawn("Echo", "echo-1").await(60, TimeUnit.SECONDS);
      System.out.println("spawned in " + (System.nanoTime() - t0) / 1_000_000 + " ms: " + actor.info());
      String hello = actor.call(TestActors.HELLO, "Spoke", Serializers.STRING, Serializers.STRING).await(10, TimeUnit.SECONDS);
      assertThat(hello).isEqualTo("Hello, Spoke!");
      Buffer echoed = actor.call(TestActors.ECHO, TestActors.pattern(100_000)).await(10, TimeUnit.SECONDS);
      assertThat(echoed).isEqualTo(TestActors.pattern(100_000));
      actor.stop().await(30, TimeUnit.SECONDS);
      assertThat(ProcessHandle.of(actor.info().pid()).map(ProcessHandle::isAlive).orElse(false)).isFalse();
      client.close().await(10, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }
}
