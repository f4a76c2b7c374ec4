// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.Dismissal;
import io.spoke.vertx.agent.process.ActorCds;
import io.spoke.vertx.agent.process.ActorLogs;
import io.spoke.vertx.agent.process.ActorSockets;
import io.spoke.vertx.agent.process.ProcessLauncher;
import io.spoke.vertx.agent.process.ProcessTrees;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.web.WebFront;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The agent: it inspects the machine ({@link NodeInventory}), listens for the actor hosts it starts
 * ({@link ActorHostListener}), and links to the hub ({@link HubLink}), whose commands ({@link HubRequests}) start and
 * stop actor processes ({@link ActorSupervisor}). What they share is {@link AgentState}. Everything runs on the agent
 * verticle's event loop; process starts and kills run on the launcher thread, file I/O on workers.
 */
public final class AgentServer {

  private static final Logger log = LogManager.getLogger(AgentServer.class);
  /** SIGUSR1: what tells the janitor that the agent stops (see {@code ProcessTrees}' janitor). */
  private static final int JANITOR_STOP_SIGNAL = 10;

  private final Vertx vertx;
  private final AgentOptions options;
  private final AgentState state;
  private final HubLink hub;
  private final ActorSupervisor supervisor;
  private final ActorHostListener listener;
  private final HubRequests requests;
  private NetClient netClient;
  private WebFront front;
  /** The janitor of this agent's process trees, once started; null without one. */
  private volatile Process janitor;

  public AgentServer(Vertx vertx, ContextInternal context, AgentOptions options) {
    this.vertx = vertx;
    this.options = options;
    this.state = new AgentState(vertx, context, options);
    this.hub = new HubLink(state);
    this.supervisor = new ActorSupervisor(state, hub);
    state.pool = new WarmPool(state, supervisor);
    this.listener = new ActorHostListener(state, supervisor);
    this.requests = new HubRequests(state, supervisor, supervisor.processes, hub);
  }

  /** Completes once the machine is inspected and the agent listens; registration with the hub follows. */
  public Future<Void> start() {
    String visible = System.getenv("CUDA_VISIBLE_DEVICES");
    return vertx.executeBlocking(() -> {
      state.launcher = new ProcessLauncher();
      state.trees = ProcessTrees.create("agent-" + ProcessHandle.current().pid() + "-" + Long.toHexString(System.nanoTime()),
        System.getProperty("spoke.processTrees", "auto"));
      state.inventory = NodeInventory.discover(options, visible);
      Path dir = Paths.get(options.getLogDir()).toAbsolutePath().normalize();
      Files.createDirectories(dir);
      state.logs = new ActorLogs(dir);
      if (options.isActorCds()) {
        state.cds = new ActorCds(dir.resolve(".spoke-cds"), ActorCommand.javaCommand(options), ActorCommand.classpath(options));
        state.cds.load();
      }
      if (options.isLocalSockets() && !options.getSecurity().isTls() && state.inventory.hostId != null) {
        Path parent = Paths.get(System.getProperty("java.io.tmpdir"));
        try {
          state.sockets = ActorSockets.create(parent);
          if (state.sockets == null) {
            log.warn("Actors listen on TCP only: Unix socket paths under {} would be longer than the kernel allows", parent);
          }
        } catch (IOException e) {
          log.warn("Actors listen on TCP only: cannot create a directory for their Unix sockets in {}: {}", parent, e.toString());
        }
      }
      return null;
    }).compose(v -> {
      SecurityOptions security = options.getSecurity();
      NetServerOptions serverOptions;
      NetClientOptions clientOptions;
      ClusterAuth auth;
      try {
        state.token = security.resolveToken();
        // Actor processes listen on the address the agent reaches the hub from (or the advertised one).
        String exposed = !ClusterAuth.isLoopback(options.getHost()) ? options.getHost()
          : options.getAdvertiseHost() != null && !ClusterAuth.isLoopback(options.getAdvertiseHost()) ? options.getAdvertiseHost()
          : !ClusterAuth.isLoopback(options.getHubHost()) ? "actors reachable from the hub's network (" + options.getHubHost() + ")"
          : options.getHost();
        auth = ClusterAuth.forServer("the agent", exposed, state.token, security.isInsecure(), log);
        serverOptions = security.applyTo(new NetServerOptions());
        clientOptions = security.applyTo(new NetClientOptions());
      } catch (IllegalArgumentException e) {
        return Future.failedFuture(e);
      }
      netClient = vertx.createNetClient(clientOptions.setTcpNoDelay(true).setConnectTimeout((int) HubLink.HUB_TIMEOUT));
      return listener.listen(serverOptions, auth).compose(s -> {
        state.port = s.actualPort();
        NodeInventory node = state.inventory;
        log.info("Agent listening on {}:{} with {} GPUs {}, {} CPUs, {} MiB; actor logs in {}{}{}", options.getHost(), s.actualPort(),
          node.gpus.size(), node.gpuList(), node.cpus, node.memoryMb, state.logs.logDir(), auth.hasToken() ? "; cluster token required" : "",
          options.getSecurity().isTls() ? "; TLS" : "");
        hub.start(netClient, auth, requests::onMessage, supervisor::instances);
        hub.registered().onSuccess(r -> state.pool.start());
        log.info("Process trees kept by {}{}", state.trees.mode(), state.launcher.deathSignal() ? "" : "; no janitor (setpriv is missing)");
        state.launcher.startJanitor(state.context, state.trees.janitor())
          .onSuccess(started -> janitor = started)
          .onFailure(err -> log.warn("Cannot start the janitor of process trees: {}", err.toString()));
        return startWeb();
      });
    });
  }

  /** /metrics, /health and /ready, when an HTTP port is set. */
  private Future<Void> startWeb() {
    if (options.getHttpPort() < 0) {
      return Future.succeededFuture();
    }
    state.metrics.startSampling(state);
    String name = "the agent" + (state.nodeId == null ? "" : " of node " + state.nodeId);
    return WebFront.start(vertx, name, options.getHost(), options.getHttpPort(), false, options.getSecurity(), state.token,
      state.metrics.registry, () -> state.metrics.refresh(state), () -> Future.succeededFuture(state.stopping ? "stopping" : null),
      () -> Future.succeededFuture(hub.registered().succeeded() && hub.isConnected() ? null : "not registered with the hub ("
        + options.getHubHost() + ":" + options.getHubPort() + ")"), router -> { }).map(started -> {
          front = started;
          return null;
        });
  }

  /** The address of /metrics, /health and /ready, or null without an HTTP port. */
  public String httpUrl() {
    return front == null ? null : front.url();
  }

  /** Completes the first time the hub accepts this node. */
  public Future<Void> registered() {
    return hub.registered();
  }

  /** Completes when the hub dismisses this agent (the cluster ends); never fails. */
  public Future<Dismissal> dismissed() {
    return state.dismissal.future();
  }

  public int actualPort() {
    return listener.actualPort();
  }

  public String nodeId() {
    return state.nodeId;
  }

  /** Kills every actor, waits (a bounded time) for them to exit, and closes. */
  public Future<Void> stop() {
    state.stopping = true;
    hub.cancelTimers();
    state.metrics.stopSampling(state);
    Future<Void> idle = state.pool.close();
    if (front != null) {
      front.close();
    }
    return Future.join(idle, supervisor.stopAll()).compose(v -> {
      hub.close();
      if (state.launcher != null) {
        if (janitor != null) {
          // Its trees are gone: the janitor sweeps what may be left and exits (it ignores signals while the agent lives).
          state.launcher.signal(state.context, janitor.pid(), JANITOR_STOP_SIGNAL);
        }
        state.launcher.close();
      }
      ActorSockets socketDir = state.sockets;
      Future<Void> removed = socketDir == null ? Future.succeededFuture() : vertx.<Void>executeBlocking(() -> {
        socketDir.close();
        return null;
      }).recover(err -> {
        log.warn("Cannot remove the actors' socket directory {}: {}", socketDir.dir(), err.toString());
        return Future.succeededFuture();
      });
      return removed.compose(r -> listener.close());
    });
  }

  /** Pids of the actor processes this agent runs, for tests. */
  public List<Long> actorPids() {
    return supervisor.pids();
  }

  /** Whether the current connection to the hub is registered. On the agent's context. */
  public boolean connectedToHub() {
    return hub.isConnected();
  }

  /** Pids of the warm hosts no actor has taken yet, for tests. */
  public List<Long> warmHostPids() {
    return state.pool.pids();
  }

  /** Warm hosts waiting for an actor, for tests. */
  public int warmHostsIdle() {
    return state.pool.idle();
  }
}
