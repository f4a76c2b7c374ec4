// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import io.spoke.vertx.InvalidRequestException;
import io.spoke.vertx.agent.process.ReadinessProbe;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Liveness;
import io.spoke.vertx.client.Readiness;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.ActorHostCodec;
import io.vertx.core.Future;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Checks a running actor or process every interval of its {@link Liveness}: a ping its actor host answers on the
 * actor's event loop, or a TCP or HTTP check. After the policy's failures in a row it hands the instance to
 * {@code dead} (which kills it, and its restart policy takes over). One check at a time; confined to the agent's event
 * loop; stops when the instance leaves {@link ActorState#RUNNING}.
 */
final class LivenessMonitor {

  private static final Logger log = LogManager.getLogger(LivenessMonitor.class);

  private final AgentState state;
  private final ActorProcess proc;
  private final Liveness liveness;
  private final Consumer<String> dead;
  private final ReadinessProbe checker;
  private long timer = -1;
  private int failures;
  private boolean checking;
  private boolean stopped;

  private LivenessMonitor(AgentState state, ActorProcess proc, Liveness liveness, Map<String, String> env, Consumer<String> dead) {
    this.state = state;
    this.proc = proc;
    this.liveness = liveness;
    this.dead = dead;
    this.checker = liveness.kind() == Liveness.Kind.TCP || liveness.kind() == Liveness.Kind.HTTP
      ? ReadinessProbe.checker(state.context, liveness.asReadiness(), env) : null;
  }

  /** Starts checking {@code proc}, which just became ready; null when it has no check. */
  static LivenessMonitor start(AgentState state, ActorProcess proc, Liveness liveness, Map<String, String> env, Consumer<String> dead) {
    if (liveness == null || liveness.kind() == Liveness.Kind.NONE) {
      return null;
    }
    LivenessMonitor monitor;
    try {
      monitor = new LivenessMonitor(state, proc, liveness, env, dead);
    } catch (IllegalArgumentException e) {
      log.warn("{} {} has no liveness check: {}", proc.spec == null ? "Actor" : "Process", proc.actorId, e.getMessage());
      return null;
    }
    monitor.schedule();
    return monitor;
  }

  /**
   * Refuses, with an {@link InvalidRequestException} naming {@code what}, a readiness or liveness check whose target does
   * not read as its kind needs in {@code env} (a {@code tcp:${VAR}} whose value is no port, a variable the environment
   * lacks): checked before an instance starts, so that no check fails later in a timer.
   */
  static void checkTargets(String what, Readiness ready, Liveness liveness, Map<String, String> env) {
    try {
      if (ready != null) {
        ReadinessProbe.resolve("readiness", ready, env);
      }
      if (liveness != null && (liveness.kind() == Liveness.Kind.TCP || liveness.kind() == Liveness.Kind.HTTP)) {
        ReadinessProbe.resolve("liveness", liveness.asReadiness(), env);
      }
    } catch (IllegalArgumentException e) {
      throw new InvalidRequestException(what + ": " + e.getMessage());
    }
  }

  private void schedule() {
    timer = state.vertx.setTimer(liveness.intervalMs(), t -> {
      timer = -1;
      check();
    });
  }

  private void check() {
    if (stopped || proc.state != ActorState.RUNNING) {
      stop();
      return;
    }
    if (checking) {
      schedule();
      return;
    }
    checking = true;
    attempt().onComplete(ar -> {
      checking = false;
      if (stopped || proc.state != ActorState.RUNNING) {
        return;
      }
      if (ar.succeeded() && ar.result()) {
        failures = 0;
      } else if (++failures >= liveness.failures()) {
        String why = "killed after " + failures + " failed liveness checks (" + liveness + ")";
        log.warn("{} {}: {}", proc.spec == null ? "Actor" : "Process", proc.actorId, why);
        stop();
        dead.accept(why);
        return;
      }
      schedule();
    });
  }

  private Future<Boolean> attempt() {
    if (liveness.kind() == Liveness.Kind.PING) {
      Connection host = proc.host;
      if (host == null || host.isClosed()) {
        return state.context.succeededFuture(false);
      }
      return host.request(ActorHostCodec.ping(), null, liveness.intervalMs(), "liveness ping of actor '" + proc.actorId + "'",
        frame -> true).otherwise(false);
    }
    return checker.checkOnce(liveness.intervalMs());
  }

  /** No more checks. */
  void stop() {
    stopped = true;
    if (timer >= 0) {
      state.vertx.cancelTimer(timer);
      timer = -1;
    }
    if (checker != null) {
      checker.cancel();
    }
  }
}
