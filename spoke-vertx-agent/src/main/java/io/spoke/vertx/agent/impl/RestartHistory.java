package io.spoke.vertx.agent.impl;

import io.spoke.vertx.client.RestartPolicy;
import java.util.ArrayDeque;

/**
 * The restarts of one actor or process across its instances: when each happened, so that a policy's budget counts
 * only those within its window, and how many there were in all. Confined to the agent's event loop.
 */
final class RestartHistory {

  private final RestartPolicy policy;
  private final ArrayDeque<Long> times = new ArrayDeque<>();
  /** Restarts since the first start (elsewhere too: an actor moved off a dead node counts on). */
  int total;

  RestartHistory(RestartPolicy policy) {
    this.policy = policy;
  }

  RestartPolicy policy() {
    return policy;
  }

  /**
   * Whether an instance that exited with {@code status} at {@code nowMs} (not stopped) is started again; if so, counts
   * the restart. Restarts older than the policy's window no longer count.
   */
  boolean take(int status, long nowMs) {
    if (!policy.restartsAfter(status)) {
      return false;
    }
    if (policy.windowMs() > 0) {
      while (!times.isEmpty() && nowMs - times.peekFirst() > policy.windowMs()) {
        times.removeFirst();
      }
    }
    if (times.size() >= policy.maxRestarts()) {
      return false;
    }
    times.addLast(nowMs);
    total++;
    return true;
  }

  /** The back-off before the restart just taken: doubling with each restart still in the window. */
  long backoffMs() {
    return policy.backoffBefore(Math.max(1, times.size()));
  }

  /**
   * The starts before this node's first (an actor the hub moved off a dead node, which says so in its environment as
   * {@code SPOKE_ATTEMPT}); 0 otherwise.
   */
  static int earlierStarts(java.util.Map<String, String> env) {
    try {
      return Math.max(0, Integer.parseInt(env.getOrDefault("SPOKE_ATTEMPT", "0").trim()));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** Why there is no restart, for the final exit's reason. */
  String refusal(int status) {
    if (!policy.restartsAfter(status)) {
      return "";
    }
    return "; no restart left (" + policy.maxRestarts() + " within " + (policy.windowMs() > 0 ? policy.windowMs() + " ms" : "its life")
      + ")";
  }
}
