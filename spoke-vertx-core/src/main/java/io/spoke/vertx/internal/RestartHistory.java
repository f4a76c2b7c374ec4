// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal;

import io.spoke.vertx.client.RestartPolicy;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;

/**
 * The restarts of one actor, process or gang across its instances: when each happened, so that a policy's budget
 * counts only those within its window, and how many there were in all. One type with one meaning for the agent's
 * restarts in place and the hub's gang restarts. Not thread-safe: confined to its owner's event loop.
 */
public final class RestartHistory {

  private final RestartPolicy policy;
  private final ArrayDeque<Long> times = new ArrayDeque<>();
  /** Restarts since the first start (elsewhere too: an actor moved off a dead node counts on). */
  private int total;

  public RestartHistory(RestartPolicy policy) {
    this.policy = policy;
  }

  public RestartPolicy policy() {
    return policy;
  }

  /** Restarts since the first start. */
  public int total() {
    return total;
  }

  /** Sets the restarts made before this history was kept (elsewhere, or by an earlier hub). */
  public void setTotal(int total) {
    this.total = Math.max(0, total);
  }

  /** When the restarts still in the window happened (epoch milliseconds), oldest first: what a journal keeps. */
  public List<Long> times() {
    return List.copyOf(times);
  }

  /** Takes back the restart times a journal kept ({@link #times()}). */
  public void restoreTimes(List<Long> restored) {
    times.clear();
    restored.stream().sorted().forEach(times::addLast);
  }

  /**
   * Whether an instance that exited with {@code status} at {@code nowMs} (not stopped) is started again; if so, counts
   * the restart. Restarts older than the policy's window no longer count.
   */
  public boolean take(int status, long nowMs) {
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

  /**
   * The back-off before the restart just taken: doubling with each restart still in the window, spread by
   * {@link Jitter}, so that instances that died together (a node's, a gang's) do not all start again in the same
   * millisecond.
   */
  public long backoffMs() {
    return Jitter.spread(policy.backoffBefore(Math.max(1, times.size())));
  }

  /**
   * The starts before this node's first (an actor the hub moved off a dead node, which says so in its environment as
   * {@code SPOKE_ATTEMPT}); 0 otherwise.
   */
  public static int earlierStarts(Map<String, String> env) {
    try {
      return Math.max(0, Integer.parseInt(env.getOrDefault("SPOKE_ATTEMPT", "0").trim()));
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** Why there is no restart, for the final exit's reason. */
  public String refusal(int status) {
    if (!policy.restartsAfter(status)) {
      return "";
    }
    return "; no restart left (" + policy.maxRestarts() + " within " + (policy.windowMs() > 0 ? policy.windowMs() + " ms" : "its life")
      + ")";
  }
}
