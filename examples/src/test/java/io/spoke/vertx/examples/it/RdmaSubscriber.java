// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.it;

import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import java.util.concurrent.TimeUnit;

/**
 * A client process for RDMA fault tests: {@code RdmaSubscriber HUB_PORT ACTOR_ID} moves its calls to the actor
 * onto UCX, subscribes to the actor's mailbox there, prints {@code READY} and waits (to be stopped or killed).
 */
public final class RdmaSubscriber {

  private RdmaSubscriber() {
  }

  public static void main(String[] args) throws Exception {
    SpokeClient client = SpokeClient.create(new SpokeClientOptions().setHubPort(Integer.parseInt(args[0])));
    ActorHandle actor = client.actor(args[1]).await(60, TimeUnit.SECONDS);
    actor.initRdma().await(60, TimeUnit.SECONDS);
    actor.subscribe(RdmaTestActor.MAILBOX, data -> { }).await(60, TimeUnit.SECONDS);
    System.out.println("READY");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
