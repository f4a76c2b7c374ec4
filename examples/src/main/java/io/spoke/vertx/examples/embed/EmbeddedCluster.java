// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.embed;

import io.spoke.vertx.agent.AgentVerticle;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.hub.HubVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/**
 * A hub, an agent and a client in an existing Vert.x application, configured the way any verticle is: by
 * its deployment's JSON config (the keys of HubOptions and AgentOptions).
 */
public final class EmbeddedCluster {

  private EmbeddedCluster() {
  }

  /** Deploys a hub on port 8888 and an agent with 8 simulated GPUs; completes with a client of that hub. */
  public static Future<SpokeClient> deploy(Vertx vertx) {
    return vertx.deployVerticle(new HubVerticle(), new DeploymentOptions().setConfig(new JsonObject().put("port", 8888)))
      .compose(hub -> vertx.deployVerticle(new AgentVerticle(),
        new DeploymentOptions().setConfig(new JsonObject().put("hubPort", 8888).put("gpus", 8))))
      .map(agent -> SpokeClient.create(vertx, new SpokeClientOptions().setHubPort(8888)));
  }
}
