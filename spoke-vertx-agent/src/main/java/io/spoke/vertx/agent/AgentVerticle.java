// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent;

import io.spoke.vertx.agent.impl.AgentServer;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.internal.ContextInternal;
import java.util.List;

/**
 * The agent of one node: registers the node's resources with the hub (GPUs from {@code nvidia-smi}, or
 * simulated), keeps a heartbeat, and starts each actor as its own process on the hub's request, tied to
 * the agent's life by a parent-death signal, with its GPUs isolated through {@code CUDA_VISIBLE_DEVICES} and
 * its output in a log file.
 * <p>
 * Deploy it with {@link AgentOptions}, directly or as the deployment's config. The deployment completes
 * once the agent listens; registration with the hub follows and is retried with backoff for as long as the
 * hub is unreachable ({@link #registered()}). Undeploying kills the node's actors.
 */
public class AgentVerticle extends VerticleBase {

  private final AgentOptions options;
  private AgentServer server;

  /** An agent configured by the deployment's config ({@link AgentOptions#AgentOptions(io.vertx.core.json.JsonObject)}). */
  public AgentVerticle() {
    this.options = null;
  }

  public AgentVerticle(AgentOptions options) {
    this.options = new AgentOptions(options);
  }

  @Override
  public Future<?> start() {
    AgentOptions effective;
    try {
      effective = options != null ? options : new AgentOptions(config());
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    server = new AgentServer(vertx, (ContextInternal) context, effective);
    return server.start();
  }

  @Override
  public Future<?> stop() {
    return server == null ? Future.succeededFuture() : server.stop();
  }

  /** The address of the agent's /metrics, /health and /ready; null without an HTTP port. */
  public String httpUrl() {
    return server == null ? null : server.httpUrl();
  }

  /** Completes the first time the hub accepts this node. */
  public Future<Void> registered() {
    return server().registered();
  }

  /**
   * Completes when the hub dismisses this agent because the cluster ends (as the hub of a {@code spoke run --slurm}
   * step does once the run is over); the embedding decides what to do, {@code spoke agent} exits with its status.
   */
  public Future<Dismissal> dismissed() {
    return server().dismissed();
  }

  /** The node's id, once registered. */
  public String nodeId() {
    return server().nodeId();
  }

  /** The port the agent listens on for its actor processes. */
  public int actualPort() {
    return server().actualPort();
  }

  /** Process ids of the actors this agent runs now. Call on the agent's context. */
  public List<Long> actorPids() {
    return server().actorPids();
  }

  /** Process ids of the warm actor hosts no actor has taken yet, starting or idle; read on the agent's context. */
  public Future<List<Long>> warmHostPids() {
    return onAgentLoop(server()::warmHostPids);
  }

  /** Whether the agent is registered with its hub now (false while it reconnects); read on the agent's context. */
  public Future<Boolean> connectedToHub() {
    return onAgentLoop(server()::connectedToHub);
  }

  /** How many warm actor hosts wait for an actor; read on the agent's context. */
  public Future<Integer> warmHostsIdle() {
    return onAgentLoop(server()::warmHostsIdle);
  }

  private <T> Future<T> onAgentLoop(java.util.function.Supplier<T> read) {
    io.vertx.core.Promise<T> promise = io.vertx.core.Promise.promise();
    context.runOnContext(v -> promise.complete(read.get()));
    return promise.future();
  }

  private AgentServer server() {
    if (server == null) {
      throw new IllegalStateException("the agent is not deployed");
    }
    return server;
  }
}
