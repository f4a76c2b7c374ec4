// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import io.spoke.vertx.InvalidRequestException;
import io.spoke.vertx.SpawnException;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.process.ActorCds;
import io.spoke.vertx.agent.process.ActorLogs;
import io.spoke.vertx.agent.process.ActorSockets;
import io.spoke.vertx.agent.process.ProcessTrees;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Liveness;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.internal.ExitStatus;
import io.spoke.vertx.internal.RestartHistory;
import io.spoke.vertx.protocol.ActorHostCodec;
import io.spoke.vertx.protocol.ErrorCodes;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The actor processes of this agent: their start (a log, the command, the launcher), their readiness or their
 * spawn timeout, their stop (a shutdown asked of the actor host, then a kill after the stop timeout), and their
 * exit (what they held freed, the hub told). Runs on the agent's event loop; process starts and kills run on the
 * launcher thread, file I/O on workers.
 */
final class ActorSupervisor {

  private static final Logger log = LogManager.getLogger(ActorSupervisor.class);

  /** What a cold start needs from the file system, made on a worker: the host's process tree and its log. */
  private record Prepared(ProcessTrees.Tree tree, Path logFile) {
  }

  /** Lines of an actor's log that a failed spawn carries. */
  static final int LOG_TAIL_LINES = 20;
  /** How long a stopping agent gives its instances to stop before it kills what is left. */
  static final long STOP_ALL_MS = 10_000;

  private final AgentState state;
  private final Vertx vertx;
  private final AgentOptions options;
  private final HubLink hub;
  /** The managed processes among the agent's children: they start, stop and end their own way. */
  final ProcessRuns processes;
  /** Restarts in place, of actors and processes alike. */
  final Restarts restarts;

  ActorSupervisor(AgentState state, HubLink hub) {
    this.state = state;
    this.vertx = state.vertx;
    this.options = state.options;
    this.hub = hub;
    this.processes = new ProcessRuns(state, hub, this);
    this.restarts = new Restarts(state, hub, this);
  }

  /**
   * Starts actor {@code actorId} in a process of its own; completes when its actor host is ready, or fails when it
   * exits (or is killed at its {@code timeout}) before. {@code jvmOptions} are the agent's and the spawn's; {@code
   * spawnId} is the hub's id of the spawn, which every report of the instance carries.
   */
  Future<ActorInfo> spawn(String actorId, String actorType, List<Integer> gpuIds, Slot slot, Buffer args, long timeout,
                          Map<String, String> userEnv, List<String> jvmOptions, RestartPolicy restart, Liveness liveness,
                          String spawnId) {
    ActorProcess proc = new ActorProcess(state, actorId, actorType, gpuIds, slot, args, Secrets.next(), timeout);
    proc.spawnId = spawnId;
    proc.userEnv = Map.copyOf(userEnv);
    proc.jvmOptions = List.copyOf(jvmOptions);
    proc.restarts = restart.mode() == RestartPolicy.Mode.NEVER ? null : new RestartHistory(restart);
    if (proc.restarts != null) {
      proc.restarts.setTotal(RestartHistory.earlierStarts(userEnv));
    }
    proc.liveness = liveness;
    // A check of its own (tcp:${VAR}, say) reads the actor's environment, as its ActorContext.env() has it.
    proc.actorEnv = ActorCommand.actorEnvironment(userEnv, actorId, gpuIds, slot, state.inventory.gpuEnvManaged, state.nodeId,
      actorType, RestartHistory.earlierStarts(userEnv));
    try {
      LivenessMonitor.checkTargets("actor '" + actorId + "'", null, liveness, proc.actorEnv);
    } catch (InvalidRequestException e) {
      return Future.failedFuture(e);
    }
    proc.logFile = processes.earlierLog(actorId, userEnv);
    long startNanos = System.nanoTime();
    // An actor that goes on in an earlier log (moved off a dead node) starts cold: a warm host's log is a file of its own.
    WarmPool.Host warm = proc.logFile == null ? state.pool.take(jvmOptions, userEnv) : null;
    return (warm != null ? state.pool.start(proc, warm) : startCold(proc))
      .andThen(ar -> state.metrics.spawned(proc.spawnKind, startNanos, ar.succeeded()));
  }

  /** Kills {@code proc} if it is not ready within its spawn timeout; one still waiting for its turn to start ends there. */
  void armSpawnTimer(ActorProcess proc) {
    proc.spawnTimer = vertx.setTimer(proc.timeout, t -> {
      proc.spawnTimer = -1;
      if (proc.state != ActorState.STARTING) {
        return;
      }
      proc.spawnTimedOut = true;
      int ahead = state.coldStarts.waiting();
      if (proc.process == null && state.coldStarts.cancel(proc)) {
        state.actors.remove(proc.actorId, proc);
        proc.deathCause = "did not start within " + proc.timeout + " ms: it waited all that time for its JVM's turn to start ("
          + ColdStarts.LIMIT + " start at once on node " + state.nodeId + "; " + ahead + " were waiting)";
        reportExit(proc, -1, "", () -> proc.spawned.tryFail(new SpawnException("actor '" + proc.actorId + "' " + proc.deathCause)));
      } else {
        kill(proc);
      }
    });
  }

  /** Starts {@code proc}'s process in a JVM of its own: its first instance, or the next one after a restart's back-off. */
  Future<ActorInfo> startCold(ActorProcess proc) {
    String actorId = proc.actorId;
    proc.localSocket = state.sockets == null ? null : state.sockets.next();
    proc.spawnKind = AgentMetrics.SpawnKind.COLD;
    state.actors.put(actorId, proc);
    // The timeout counts from here, a turn's wait included.
    armSpawnTimer(proc);
    state.coldStarts.enter(proc, () -> launch(proc));
    return proc.spawned.future();
  }

  /** Launches {@code proc}'s JVM, once {@link ColdStarts} lets it. */
  private void launch(ActorProcess proc) {
    String actorId = proc.actorId;
    String actorType = proc.actorType;
    List<Integer> gpuIds = proc.gpuIds;
    Slot slot = proc.slot;
    List<String> jvmOptions = new ArrayList<>(proc.jvmOptions);
    String header = proc.attempt == 0 ? ActorCommand.logHeader(actorId, actorType, state.nodeId, slot, gpuIds, Instant.now())
      : "# Spoke restarted actor '" + actorId + "' (start " + proc.attempt + ") at " + Instant.now() + "\n";
    Map<String, String> env = ActorCommand.environment(System.getenv(), proc.userEnv,
      new ActorCommand.ActorSide(proc.actorId, proc.actorType, proc.gpuIds, proc.slot, proc.secret, proc.localSocket),
      ActorCommand.agentSide(state));
    int attempt = RestartHistory.earlierStarts(proc.userEnv) + proc.attempt;
    env.put("SPOKE_ATTEMPT", String.valueOf(attempt));
    proc.actorEnv = ActorCommand.actorEnvironment(proc.userEnv, actorId, gpuIds, slot, state.inventory.gpuEnvManaged, state.nodeId,
      actorType, attempt);
    ActorCds cds = state.cds;
    if (cds != null) {
      jvmOptions.addAll(cds.optionsFor(actorId, jvmOptions));
    }
    proc.spawnKind = jvmOptions.stream().anyMatch(o -> o.startsWith("-XX:SharedArchiveFile")) ? AgentMetrics.SpawnKind.CDS
      : AgentMetrics.SpawnKind.COLD;
    List<String> command = ActorCommand.command(ActorCommand.javaCommand(options), jvmOptions, ActorCommand.classpath(options));
    Path earlierLog = proc.logFile;
    ProcessTrees trees = state.trees;
    // A tree of its own, as a managed process has: whatever the actor starts (setsid, a double fork) ends with it.
    vertx.executeBlocking(() -> new Prepared(trees.tree(actorId), earlierLog != null ? ActorLogs.append(earlierLog, header)
        : state.logs.create(slot == null ? null : slot.ticketId(), actorId, header)), false)
      .compose(prepared -> {
        proc.tree = prepared.tree();
        proc.logFile = prepared.logFile();
        env.put(proc.tree.tagVariable().getKey(), proc.tree.tagVariable().getValue());
        return state.launcher.start(state.context, proc.tree.wrap(command), env, proc.logFile, ActorCommand.tokenLine(state.token));
      })
      .onComplete(ar -> {
        if (ar.failed()) {
          state.actors.remove(actorId, proc);
          state.coldStarts.leave(proc);
          if (cds != null) {
            cds.trainerExited(actorId); // a trainer that never started wrote nothing: let the next one train
          }
          if (proc.spawnTimer >= 0) {
            vertx.cancelTimer(proc.spawnTimer);
          }
          String why = "cannot start a process for actor '" + actorId + "' on node " + state.nodeId + ": " + ar.cause().getMessage();
          if (proc.attempt > 0) {
            restarts.couldNotStart(proc, why);
            return;
          }
          proc.spawned.tryFail(new SpawnException(why));
          ActorInfo ended = proc.info().withState(ActorState.EXITED, ExitStatus.UNKNOWN, why);
          proc.stopped.forEach(p -> p.tryComplete(ended));
          return;
        }
        Process process = ar.result();
        proc.process = process;
        proc.pid = process.pid();
        log.info("Started actor {} ({}) as process {}; log {}", actorId, actorType, proc.pid, proc.logFile);
        process.onExit().whenComplete((p, err) -> state.context.runOnContext(v -> onExit(proc)));
        if (proc.stopRequested || proc.spawnTimedOut) {
          kill(proc);
        }
      });
  }

  /** The actor's host is ready: it listens on {@code port} (and {@code localSocket}, or null). */
  void ready(ActorProcess proc, int port, String localSocket) {
    if (proc.state != ActorState.STARTING) {
      return;
    }
    if (proc.spawnTimer >= 0) {
      vertx.cancelTimer(proc.spawnTimer);
      proc.spawnTimer = -1;
    }
    state.coldStarts.leave(proc);
    proc.port = port;
    // Only the path this agent handed out: it is in the agent's own directory.
    proc.localSocketOpen = proc.localSocket != null && proc.localSocket.equals(localSocket);
    proc.state = ActorState.RUNNING;
    log.info("Actor {} ready on {}:{}{}", proc.actorId, state.advertiseHost, port, proc.localSocketOpen ? " and " + proc.localSocket : "");
    proc.spawned.tryComplete(proc.info());
    proc.monitor = LivenessMonitor.start(state, proc, proc.liveness, proc.actorEnv, why -> killForLiveness(proc, why));
    if (proc.stopRequested) {
      requestShutdown(proc);
    }
  }

  /** Stops the actor: completes with it exited. A running actor is asked to shut down first, one still starting is killed. */
  Future<ActorInfo> stop(ActorProcess proc) {
    if (proc.state == ActorState.RESTARTING) {
      return restarts.stopWhileWaiting(proc);
    }
    Promise<ActorInfo> promise = Promise.promise();
    proc.stopped.add(promise);
    if (!proc.stopRequested) {
      proc.stopRequested = true;
      // A running actor is asked to shut down (a process gets its stop signal), one still starting is killed.
      if (proc.state == ActorState.RUNNING) {
        if (proc.spec != null) {
          processes.signalStop(proc);
        } else {
          requestShutdown(proc);
        }
      } else if (proc.process != null) {
        kill(proc);
      } else if (state.coldStarts.cancel(proc)) {
        neverStarted(proc);
      }
    }
    return promise.future();
  }

  /** A failed liveness check: the instance is killed, and its exit goes its restart policy's way. */
  void killForLiveness(ActorProcess proc, String why) {
    proc.deathCause = why;
    kill(proc);
  }

  private void requestShutdown(ActorProcess proc) {
    proc.state = ActorState.STOPPING;
    if (proc.host != null && options.getStopTimeout() > 0) {
      proc.host.request(ActorHostCodec.shutdown(), null, options.getStopTimeout(), "shutdown", f -> null);
      proc.killTimer = vertx.setTimer(options.getStopTimeout(), t -> {
        proc.killTimer = -1;
        log.warn("Actor {} did not stop within {} ms; killing its process group", proc.actorId, options.getStopTimeout());
        proc.killedAfterGrace = true;
        kill(proc);
      });
    } else {
      kill(proc);
    }
  }

  /** SIGKILLs the instance and its whole tree (what it started, whatever it did to leave its process group). */
  void kill(ActorProcess proc) {
    if (proc.tree != null) {
      processes.killTree(proc);
    } else if (proc.process != null && proc.process.isAlive()) {
      state.launcher.kill(state.context, proc.process.toHandle());
    }
  }

  /** {@code proc}'s process exited (a cold host's, or the warm one it took). */
  void onExit(ActorProcess proc) {
    if (proc.exited) {
      return;
    }
    proc.exited = true;
    state.coldStarts.leave(proc);
    int status = proc.process.exitValue();
    Path trained = state.cds == null ? null : state.cds.trainerExited(proc.cdsKey);
    if (trained != null) {
      ActorCds archive = state.cds;
      vertx.executeBlocking(() -> ActorCds.publish(trained, archive.archive()), false).onSuccess(ok -> {
        if (ok) {
          archive.published();
        }
      });
    }
    if (proc.spawnTimer >= 0) {
      vertx.cancelTimer(proc.spawnTimer);
    }
    if (proc.killTimer >= 0) {
      vertx.cancelTimer(proc.killTimer);
    }
    if (proc.monitor != null) {
      proc.monitor.stop();
    }
    if (proc.host != null) {
      proc.host.close();
    }
    if (proc.localSocket != null) {
      String socket = proc.localSocket;
      vertx.executeBlocking(() -> {
        ActorSockets.delete(socket);
        return null;
      }, false).onFailure(err -> log.warn("Cannot remove the Unix socket {} of actor {}: {}", socket, proc.actorId, err.toString()));
    }
    // What the actor started and left behind goes with it (its tree: setsid, double forks included; or its group),
    // and only once it is gone is its end told: what it held, its GPUs, may go to another then.
    Future<Void> dead = proc.tree != null ? processes.killTree(proc) : state.launcher.killGroup(state.context, proc.pid);
    dead.onComplete(ar -> {
      state.actors.remove(proc.actorId, proc);
      if (restarts.schedule(proc, status)) {
        return;
      }
      reportExit(proc, status, "stopped (killed after the " + options.getStopTimeout() + " ms stop timeout)", () -> failSpawn(proc, status));
    });
  }

  /**
   * An instance's exit, final (no restart follows), for an actor or a process alike: its reason, remembered; a launch
   * that never got ready fails ({@code failSpawn}), else the hub hears of it; stops waiting on it complete.
   */
  void reportExit(ActorProcess proc, int status, String killedAfterGrace, Runnable failSpawn) {
    String reason;
    if (proc.stopRequested) {
      reason = proc.killedAfterGrace ? killedAfterGrace : "stopped";
    } else if (state.stopping) {
      reason = "its agent stopped";
    } else {
      reason = (proc.deathCause != null ? proc.deathCause : ExitStatus.describe(status))
        + (proc.restarts == null ? "" : proc.restarts.refusal(status));
    }
    ActorInfo info = proc.info().withState(ActorState.EXITED, status, reason);
    state.recentlyExited.put(proc.actorId, info);
    log.info("{} {} (pid {}) {}", proc.spec == null ? "Actor" : "Process", proc.actorId, proc.pid, reason);
    if (!proc.spawned.future().succeeded() && proc.attempt == 0) {
      failSpawn.run();
    } else {
      hub.sendEvent(info);
    }
    for (Promise<ActorInfo> p : proc.stopped) {
      p.tryComplete(info);
    }
  }

  private void failSpawn(ActorProcess proc, int status) {
    Path file = proc.logFile;
    vertx.executeBlocking(() -> file == null ? "" : ActorLogs.tail(file, LOG_TAIL_LINES), false).onComplete(ar -> {
      String tail = ar.succeeded() ? ar.result() : "";
      String where = file == null ? "" : "; last lines of its log " + file + " on node " + state.nodeId + ":\n" + tail;
      String what = "actor '" + proc.actorId + "' (" + proc.actorType + ")";
      if (proc.startFailure != null) {
        proc.spawned.tryFail(ErrorCodes.toException(ErrorCodes.codeOf(proc.startFailure), what + " failed to start: "
          + proc.startFailure.getMessage() + " (" + ExitStatus.describe(status) + ")" + where, null, proc.actorId));
      } else if (proc.spawnTimedOut) {
        proc.spawned.tryFail(new SpawnException(what + " did not become ready within " + proc.timeout + " ms and was killed" + where));
      } else if (proc.stopRequested) {
        proc.spawned.tryFail(new SpawnException(what + " was stopped while it started"));
      } else {
        proc.spawned.tryFail(new SpawnException(what + " " + ExitStatus.describe(status) + " before it was ready" + where));
      }
    });
  }

  /** A spawn stopped while it waited for its JVM to start: it ends without a process. */
  private void neverStarted(ActorProcess proc) {
    state.actors.remove(proc.actorId, proc);
    reportExit(proc, -1, "stopped", () -> proc.spawned.tryFail(new SpawnException("actor '" + proc.actorId + "' was stopped while it"
      + " waited for its JVM to start")));
  }

  /**
   * Stops every instance as the agent stops, each as a stop would; completes when all have exited, or once what was
   * left after {@link #STOP_ALL_MS} has been killed.
   */
  Future<Void> stopAll() {
    for (ActorProcess waiting : state.coldStarts.drain()) {
      waiting.stopRequested = true;
      neverStarted(waiting);
    }
    List<Future<?>> exits = new ArrayList<>();
    for (ActorProcess proc : new ArrayList<>(state.actors.values())) {
      if (proc.process != null || proc.state == ActorState.RESTARTING) {
        // As a stop from the hub: a process gets its stop signal and grace, an actor its shutdown, so that ranks can
        // save their work when their job ends (a Slurm step's SIGTERM, say); one still starting is killed.
        exits.add(stop(proc));
      } else {
        proc.stopRequested = true;
      }
    }
    Promise<Void> done = Promise.promise();
    long timer = vertx.setTimer(STOP_ALL_MS, t -> {
      // What is still there after its grace is killed, and the agent goes a moment later whatever is left.
      for (ActorProcess proc : new ArrayList<>(state.actors.values())) {
        if (proc.process != null && !proc.exited) {
          kill(proc);
        }
      }
      vertx.setTimer(2_000, last -> done.tryComplete());
    });
    Future.join(exits).onComplete(ar -> {
      vertx.cancelTimer(timer);
      done.tryComplete();
    });
    return done.future();
  }

  /**
   * Every instance the agent holds, in every state, as it reports them when it registers: starting ones (waiting for
   * their JVM's turn too) with the spawn they answer and their GPUs, running, stopping, and restarting ones (with how
   * their last instance ended), so that the hub decides each.
   */
  List<ActorInfo> instances() {
    return state.actors.values().stream()
      .map(p -> p.state == ActorState.RESTARTING ? p.info().withState(ActorState.RESTARTING, p.lastStatus, "restarting") : p.info())
      .collect(Collectors.toList());
  }

  /** Pids of the actor processes, for tests. */
  List<Long> pids() {
    return state.actors.values().stream().filter(p -> p.process != null).map(p -> p.pid).collect(Collectors.toList());
  }
}
