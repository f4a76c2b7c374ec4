// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import java.util.concurrent.TimeUnit;

/**
 * A client process for fault tests: {@code TicketHolder HUB_PORT TOKEN_FILE} allocates a ticket it owns and a
 * detached one, launches an actor in each, prints {@code READY <owned actor pid> <detached actor pid>} and waits
 * to be killed.
 */
public final class TicketHolder {

  private TicketHolder() {
  }

  public static void main(String[] args) throws Exception {
    SpokeClient client = SpokeClient.create(new SpokeClientOptions().setHubPort(Integer.parseInt(args[0]))
      .setSecurity(new SecurityOptions().setTokenFile(args[1])));
    client.gangAllocate(new GangRequest().setTicketId("t-owned").setGpus(1)).await(60, TimeUnit.SECONDS);
    client.gangAllocate(new GangRequest().setTicketId("t-detached").setGpus(1).setDetached(true)).await(60, TimeUnit.SECONDS);
    ActorHandle owned = client.launch("t-owned", 0, "Echo", "owned-0", new SpawnOptions()).await(60, TimeUnit.SECONDS);
    ActorHandle detached = client.launch("t-detached", 0, "Echo", "detached-0", new SpawnOptions()).await(60, TimeUnit.SECONDS);
    System.out.println("READY " + owned.info().pid() + " " + detached.info().pid());
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
