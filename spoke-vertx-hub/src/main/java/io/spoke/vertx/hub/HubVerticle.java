// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub;

import io.spoke.vertx.hub.impl.HaHub;
import io.spoke.vertx.hub.impl.HubServer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;

/**
 * The hub: registry of nodes (agents) and actors, and the scheduler that places actors on nodes. Clients
 * send it control requests (spawn, stop, resolve, status); agents register with it and keep a heartbeat;
 * calls to actors never pass through it.
 * <p>
 * Deploy it in any Vert.x application, configured by {@link HubOptions} given directly or as the
 * deployment's config:
 * <pre>
 * vertx.deployVerticle(new HubVerticle(), new DeploymentOptions().setConfig(new HubOptions().setPort(8888).toJson()));
 * </pre>
 * All state lives on the verticle's event loop. The deployment completes once the hub listens, and fails
 * if the port cannot be bound or the options are invalid.
 */
public class HubVerticle extends VerticleBase {

  private final HubOptions options;
  private HubServer server;
  private HaHub ha;

  /** A hub configured by the deployment's config ({@link HubOptions#HubOptions(io.vertx.core.json.JsonObject)}). */
  public HubVerticle() {
    this.options = null;
  }

  public HubVerticle(HubOptions options) {
    this.options = new HubOptions(options);
  }

  @Override
  public Future<?> start() {
    HubOptions effective;
    try {
      effective = options != null ? options : new HubOptions(config());
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    if (!effective.getEtcd().isEmpty()) {
      ha = new HaHub(vertx, effective);
      return ha.start();
    }
    server = new HubServer(vertx, effective);
    return server.start();
  }

  @Override
  public Future<?> stop() {
    if (ha != null) {
      return ha.stop();
    }
    return server == null ? Future.succeededFuture() : server.stop();
  }

  /** The hub that serves: this one, or with etcd, this one while it leads (null while it stands by). */
  private HubServer serving() {
    return ha != null ? ha.server() : server;
  }

  /** Whether this hub serves: always without etcd; with etcd, while etcd elects it the leader. */
  public boolean isLeader() {
    return ha != null ? ha.leading() : server != null;
  }

  /**
   * The address of the status page (and /metrics, /health, /ready), once deployed; null when the HTTP port is -1. A
   * standby of several hubs serves /health, /ready and /metrics there.
   */
  public String httpUrl() {
    HubServer serving = serving();
    return serving != null ? serving.httpUrl() : ha != null ? ha.standbyHttpUrl() : null;
  }

  /** The HTTP port, once deployed; -1 when there is none. */
  public int httpPort() {
    HubServer serving = serving();
    return serving == null ? -1 : serving.httpPort();
  }

  /**
   * Tells every connected agent that the cluster ends: each agent's {@code dismissed()} completes with {@code
   * exitStatus} and {@code reason} (what {@code spoke run --slurm} uses to end every node's task with the run's status).
   * Completes once every agent has acknowledged it or is gone.
   */
  public Future<Void> dismissAgents(int exitStatus, String reason) {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      HubServer serving = serving();
      if (serving == null) {
        done.fail(new IllegalStateException(ha != null ? "this hub does not lead" : "the hub is not deployed"));
      } else {
        serving.dismissAgents(exitStatus, reason).onComplete(done);
      }
    });
    return done.future();
  }

  /** The port the hub listens on, once deployed (useful with port 0). */
  public int actualPort() {
    if (ha != null) {
      return ha.actualPort();
    }
    if (server == null) {
      throw new IllegalStateException("the hub is not deployed");
    }
    return server.actualPort();
  }
}
