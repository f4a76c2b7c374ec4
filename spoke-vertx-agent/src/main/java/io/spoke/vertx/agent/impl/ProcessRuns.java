// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import io.spoke.vertx.SpawnException;
import io.spoke.vertx.SpokeException;
import io.spoke.vertx.agent.process.ActorLogs;
import io.spoke.vertx.agent.process.ProcessTrees;
import io.spoke.vertx.agent.process.ReadinessProbe;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Liveness;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.internal.ExitStatus;
import io.spoke.vertx.internal.RestartHistory;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The managed processes of this agent ({@link ProcessSpec}): their start (the program and working directory checked,
 * their own ports reserved, a log, a process tree, the launcher), their readiness ({@link ReadinessProbe}) or their
 * launch timeout, their stop (the stop signal, then after the grace period a kill of the whole tree), and their exit
 * (the rest of the tree killed, ports given back, the hub told). Runs on the agent's event loop; starts, signals and
 * kills on the launcher thread, file work on workers.
 */
final class ProcessRuns {

  private static final Logger log = LogManager.getLogger(ProcessRuns.class);

  private final AgentState state;
  private final Vertx vertx;
  private final HubLink hub;
  private final ActorSupervisor supervisor;

  ProcessRuns(AgentState state, HubLink hub, ActorSupervisor supervisor) {
    this.state = state;
    this.vertx = state.vertx;
    this.hub = hub;
    this.supervisor = supervisor;
  }

  /** What a start needs from the file system, prepared on a worker. */
  private record Prepared(Path workdir, List<Integer> ports, ProcessTrees.Tree tree, Path logFile, long logOffset,
                          String nodeInterface) {
  }

  /**
   * Starts process {@code id} running {@code spec}; completes when it is ready, or fails with {@link SpawnException}
   * (its exit status and the end of its log) when it exits, or is killed at {@code timeout}, before.
   */
  Future<ActorInfo> spawn(String id, String type, List<Integer> gpuIds, Slot slot, long timeout, ProcessSpec spec, RestartPolicy restart,
                          Liveness liveness, String spawnId) {
    ActorProcess proc = new ActorProcess(state, id, type, gpuIds, slot, null, "", timeout);
    proc.spawnId = spawnId;
    proc.spec = spec;
    proc.restarts = restart.mode() == RestartPolicy.Mode.NEVER ? null : new RestartHistory(restart);
    if (proc.restarts != null) {
      proc.restarts.setTotal(RestartHistory.earlierStarts(spec.getEnv()));
    }
    proc.liveness = liveness;
    proc.logFile = earlierLog(id, spec.getEnv());
    long startNanos = System.nanoTime();
    return start(proc).andThen(ar -> state.metrics.spawned(AgentMetrics.SpawnKind.PROCESS, startNanos, ar.succeeded()));
  }

  /** A process started again by its hub (its gang restarted, its node died) goes on in the log it had here. */
  Path earlierLog(String id, Map<String, String> env) {
    ActorInfo before = state.recentlyExited.get(id);
    return RestartHistory.earlierStarts(env) > 0 && before != null && before.logFile() != null ? Paths.get(before.logFile()) : null;
  }

  /** Starts {@code proc}: a process's first instance, or its next one after a restart's back-off (same ports, same log). */
  Future<ActorInfo> start(ActorProcess proc) {
    String id = proc.actorId;
    ProcessSpec spec = proc.spec;
    List<Integer> gpuIds = proc.gpuIds;
    Slot slot = proc.slot;
    long timeout = proc.timeout;
    state.actors.put(id, proc);
    String where = " on node " + state.nodeId;
    vertx.executeBlocking(() -> prepare(proc), false)
      .compose(prepared -> {
        proc.tree = prepared.tree();
        proc.ports = prepared.ports();
        proc.logFile = prepared.logFile();
        Map<String, String> env = ActorCommand.processEnvironment(System.getenv(), spec.getEnv(), id, gpuIds, slot,
          state.inventory.gpuEnvManaged, state.nodeId, state.advertiseHost, proc.ports,
          RestartHistory.earlierStarts(spec.getEnv()) + proc.attempt, proc.tree.tagVariable());
        ActorCommand.gangSocketInterface(env, slot, prepared.nodeInterface());
        LivenessMonitor.checkTargets("process '" + id + "'", spec.getReady(), proc.liveness, env);
        return state.launcher.start(state.context, proc.tree.wrap(spec.getCommand()), env, proc.logFile, null, prepared.workdir())
          .map(process -> {
            proc.probe = ReadinessProbe.start(state.context, spec.getReady(), env, proc.logFile, prepared.logOffset());
            proc.env = env;
            return process;
          });
      })
      .onComplete(ar -> {
        if (ar.failed()) {
          state.actors.remove(id, proc);
          Throwable cause = ar.cause();
          SpokeException failure = cause instanceof SpokeException ? (SpokeException) cause
            : new SpawnException("cannot start process '" + id + "'" + where + ": " + cause.getMessage());
          if (proc.attempt > 0) {
            supervisor.restarts.couldNotStart(proc, failure.getMessage());
            return;
          }
          cleanUp(proc);
          proc.spawned.tryFail(failure);
          return;
        }
        Process process = ar.result();
        proc.process = process;
        proc.pid = process.pid();
        log.info("Started process {} ({}) as pid {}; log {}", id, oneLine(String.join(" ", spec.getCommand())), proc.pid, proc.logFile);
        process.onExit().whenComplete((p, err) -> state.context.runOnContext(v -> onExit(proc)));
        proc.spawnTimer = vertx.setTimer(timeout, t -> {
          proc.spawnTimer = -1;
          if (proc.state == ActorState.STARTING) {
            proc.spawnTimedOut = true;
            killTree(proc);
          }
        });
        proc.probe.ready().onComplete(ready -> {
          if (ready.succeeded()) {
            ready(proc);
          } else if (proc.state == ActorState.STARTING) {
            proc.startFailure = new SpawnException(ready.cause().getMessage());
            killTree(proc);
          }
        });
        if (proc.stopRequested) {
          killTree(proc);
        }
      });
    return proc.spawned.future();
  }

  /** On a worker: the checks a user can act on, then the process's ports, tree and log. */
  private Prepared prepare(ActorProcess proc) throws Exception {
    ProcessSpec spec = proc.spec;
    String where = " on node " + state.nodeId;
    String program = spec.getCommand().get(0);
    if (resolve(program, spec.getEnv().getOrDefault("PATH", System.getenv("PATH"))) == null) {
      throw new SpawnException("process '" + proc.actorId + "': no program '" + program + "'" + where
        + (program.contains("/") ? " (no such executable file)" : " on its PATH"));
    }
    Path workdir = null;
    if (spec.getWorkdir() != null) {
      workdir = Paths.get(spec.getWorkdir());
      if (!Files.isDirectory(workdir)) {
        throw new SpawnException("process '" + proc.actorId + "': its working directory " + workdir + " does not exist" + where);
      }
    }
    boolean restart = proc.attempt > 0;
    List<Integer> ports = restart || spec.getPorts() == 0 ? proc.ports : state.ports.reserveFor(proc.actorId, spec.getPorts());
    try {
      ProcessTrees.Tree tree = state.trees.tree(proc.actorId);
      String header = "# Spoke process '" + proc.actorId + "' on node " + state.nodeId + ", started " + Instant.now() + ": "
        + oneLine(String.join(" ", spec.getCommand())) + "\n"
        + (proc.slot == null ? "" : "# ticket " + proc.slot.ticketId() + ", rank " + proc.slot.globalRank() + " of "
        + proc.slot.worldSize() + "\n")
        + "# GPUs: " + (proc.gpuIds.isEmpty() ? "none" : proc.gpuIds.toString()) + (ports.isEmpty() ? "" : "; ports " + ports) + "\n";
      Path logFile = proc.logFile != null ? ActorLogs.append(proc.logFile, "# Spoke restarted process '" + proc.actorId + "' (start "
        + (RestartHistory.earlierStarts(spec.getEnv()) + proc.attempt) + ") at " + Instant.now() + "\n")
        : state.logs.create(proc.slot == null ? null : proc.slot.ticketId(), proc.actorId, header);
      return new Prepared(workdir, ports, tree, logFile, Files.size(logFile),
        proc.slot == null ? null : ActorCommand.interfaceOf(state.advertiseHost));
    } catch (Exception e) {
      if (!restart) {
        state.ports.releaseFor(proc.actorId);
      }
      throw e;
    }
  }

  /** {@code text} on one line: a command's newlines (a script passed with -c) as \n, for log lines. */
  static String oneLine(String text) {
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r");
  }

  /** The executable {@code program} names: a path, or a name looked up on {@code path}; null when there is none. */
  static Path resolve(String program, String path) {
    if (program.contains("/")) {
      Path file = Paths.get(program);
      return Files.isRegularFile(file) && Files.isExecutable(file) ? file : null;
    }
    for (String dir : (path == null ? "/usr/local/bin:/usr/bin:/bin" : path).split(File.pathSeparator)) {
      Path file = Paths.get(dir.isEmpty() ? "." : dir, program);
      if (Files.isRegularFile(file) && Files.isExecutable(file)) {
        return file;
      }
    }
    return null;
  }

  private void ready(ActorProcess proc) {
    if (proc.state != ActorState.STARTING) {
      return;
    }
    if (proc.spawnTimer >= 0) {
      vertx.cancelTimer(proc.spawnTimer);
      proc.spawnTimer = -1;
    }
    proc.state = ActorState.RUNNING;
    log.info("Process {} ready ({})", proc.actorId, proc.probe.describe());
    proc.spawned.tryComplete(proc.info());
    proc.monitor = LivenessMonitor.start(state, proc, proc.liveness, proc.env, why -> {
      proc.deathCause = why;
      killTree(proc);
    });
    if (proc.stopRequested) {
      signalStop(proc);
    }
  }

  /** A stop of a running process: its stop signal, then after its grace period a kill of its whole tree. */
  void signalStop(ActorProcess proc) {
    proc.state = ActorState.STOPPING;
    long grace = proc.spec.getStopGraceMs();
    state.launcher.signal(state.context, proc.pid, proc.spec.getStopSignal());
    proc.killTimer = vertx.setTimer(Math.max(1, grace), t -> {
      proc.killTimer = -1;
      if (!proc.exited) {
        log.warn("Process {} did not stop within {} ms of signal {}; killing its tree", proc.actorId, grace, proc.spec.getStopSignal());
        proc.killedAfterGrace = true;
        killTree(proc);
      }
    });
  }

  /** SIGKILLs every process of {@code proc}'s tree, the first included. */
  Future<Void> killTree(ActorProcess proc) {
    ProcessTrees.Tree tree = proc.tree;
    if (tree == null) {
      return state.context.succeededFuture();
    }
    return state.launcher.killTree(state.context, tree).map(left -> {
      if (left > 0) {
        log.warn("{} processes of {}'s tree outlived the kill", left, proc.actorId);
      }
      return (Void) null;
    }).otherwiseEmpty();
  }

  private void onExit(ActorProcess proc) {
    if (proc.exited) {
      return;
    }
    proc.exited = true;
    int status = proc.process.exitValue();
    if (proc.spawnTimer >= 0) {
      vertx.cancelTimer(proc.spawnTimer);
    }
    if (proc.killTimer >= 0) {
      vertx.cancelTimer(proc.killTimer);
    }
    if (proc.probe != null) {
      proc.probe.cancel();
    }
    if (proc.monitor != null) {
      proc.monitor.stop();
    }
    // No descendant outlives the process: what it started and left behind is killed, and only once the whole tree is
    // gone is its end told (what it held, its GPUs, may go to another then); then, unless it restarts, its ports are
    // free again.
    killTree(proc).onComplete(dead -> {
      state.actors.remove(proc.actorId, proc);
      if (supervisor.restarts.schedule(proc, status)) {
        return;
      }
      givePortsBack(proc);
      supervisor.reportExit(proc, status, "stopped (killed after its " + proc.spec.getStopGraceMs() + " ms grace period)",
        () -> failSpawn(proc, status));
    });
  }

  /** What an instance that ended for good leaves: the rest of its tree killed, then its own ports given back (or parked). */
  void cleanUp(ActorProcess proc) {
    killTree(proc).onComplete(ar -> givePortsBack(proc));
  }

  private void givePortsBack(ActorProcess proc) {
    if (proc.slot != null) {
      state.ports.park(proc.actorId);
    } else {
      state.ports.releaseFor(proc.actorId);
    }
  }

  private void failSpawn(ActorProcess proc, int status) {
    Path file = proc.logFile;
    vertx.executeBlocking(() -> file == null ? "" : ActorLogs.tail(file, ActorSupervisor.LOG_TAIL_LINES), false).onComplete(ar -> {
      String tail = ar.succeeded() ? ar.result() : "";
      String where = file == null ? "" : "; last lines of its log " + file + " on node " + state.nodeId + ":\n" + tail;
      String what = "process '" + proc.actorId + "' (" + String.join(" ", proc.spec.getCommand()) + ")";
      String check = proc.probe == null ? "ready" : "ready (" + proc.probe.describe() + ")";
      if (proc.startFailure != null) {
        proc.spawned.tryFail(new SpawnException(what + " could not be checked: " + proc.startFailure.getMessage() + where));
      } else if (proc.spawnTimedOut) {
        proc.spawned.tryFail(new SpawnException(what + " did not become " + check + " within " + proc.timeout + " ms and was killed"
          + where));
      } else if (proc.stopRequested) {
        proc.spawned.tryFail(new SpawnException(what + " was stopped while it started"));
      } else {
        proc.spawned.tryFail(new SpawnException(what + " " + ExitStatus.describe(status) + " before it was " + check + where));
      }
    });
  }
}
