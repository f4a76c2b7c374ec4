// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.internal.ExitStatus;
import io.spoke.vertx.internal.RestartHistory;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Restarts in place, for Java actors and managed processes alike: an instance that ended as its restart policy says
 * is started again after the back-off (same id, GPUs, slot, ports and log), and a next instance that cannot even start
 * (its working directory or program gone, its log unwritable) is an exit like any other: it counts against the
 * budget, and either the next attempt or the final exit follows, which the owner hears of. Confined to the agent's
 * event loop.
 */
final class Restarts {

  private static final Logger log = LogManager.getLogger(Restarts.class);

  private final AgentState state;
  private final Vertx vertx;
  private final HubLink hub;
  private final ActorSupervisor supervisor;

  Restarts(AgentState state, HubLink hub, ActorSupervisor supervisor) {
    this.state = state;
    this.vertx = state.vertx;
    this.hub = hub;
    this.supervisor = supervisor;
  }

  /**
   * Whether {@code proc}, which just ended with {@code status}, is started again under its restart policy: then its
   * owner hears that it is restarting, and after the back-off its next instance starts (same id, GPUs, slot, ports).
   */
  boolean schedule(ActorProcess proc, int status) {
    RestartHistory history = proc.restarts;
    boolean ran = proc.spawned.future().succeeded() || proc.attempt > 0;
    if (history == null || proc.stopRequested || state.stopping || !ran || !history.take(status, System.currentTimeMillis())) {
      return false;
    }
    long delay = history.backoffMs();
    proc.lastStatus = status;
    proc.state = ActorState.RESTARTING;
    state.actors.put(proc.actorId, proc);
    RestartPolicy policy = history.policy();
    String died = proc.deathCause != null ? proc.deathCause : ExitStatus.describe(status);
    ActorInfo info = proc.info().withState(ActorState.RESTARTING, status, died + "; restart " + history.total()
      + " of at most " + policy.maxRestarts() + " in " + delay + " ms").withRestarts(history.total() - 1);
    log.warn("{} {} {}; starting it again in {} ms (restart {} of at most {})", proc.spec == null ? "Actor" : "Process", proc.actorId,
      died, delay, history.total(), policy.maxRestarts());
    hub.sendEvent(info);
    proc.restartTimer = vertx.setTimer(Math.max(1, delay), t -> {
      proc.restartTimer = -1;
      if (state.actors.get(proc.actorId) == proc && !proc.stopRequested && !state.stopping) {
        respawn(proc);
      }
    });
    return true;
  }

  /** Stopped during a restart's back-off: no next instance; it ends as its last instance did, stopped. */
  Future<ActorInfo> stopWhileWaiting(ActorProcess proc) {
    proc.stopRequested = true;
    if (proc.restartTimer >= 0) {
      vertx.cancelTimer(proc.restartTimer);
      proc.restartTimer = -1;
    }
    state.actors.remove(proc.actorId, proc);
    if (proc.spec != null) {
      state.ports.releaseFor(proc.actorId);
    }
    ActorInfo info = proc.info().withState(ActorState.EXITED, proc.lastStatus, "stopped while it waited to restart");
    state.recentlyExited.put(proc.actorId, info);
    return Future.succeededFuture(info);
  }

  /**
   * The next instance of {@code proc} (a restart: {@code proc.attempt > 0}) could not start, for {@code why}: an exit
   * with no process, which its policy takes like any other (another attempt after the back-off, or the final exit).
   */
  void couldNotStart(ActorProcess proc, String why) {
    proc.exited = true;
    int restart = proc.restarts == null ? proc.attempt : proc.restarts.total();
    proc.deathCause = "restart " + restart + " could not start: " + why;
    state.actors.remove(proc.actorId, proc);
    if (schedule(proc, ExitStatus.UNKNOWN)) {
      return;
    }
    if (proc.spec != null) {
      supervisor.processes.cleanUp(proc);
    }
    supervisor.reportExit(proc, ExitStatus.UNKNOWN, "stopped", () -> { });
  }

  private void respawn(ActorProcess last) {
    ActorProcess next = last.nextInstance(Secrets.next());
    Future<ActorInfo> started = next.spec != null ? supervisor.processes.start(next) : supervisor.startCold(next);
    started.onSuccess(hub::sendEvent);
  }
}
