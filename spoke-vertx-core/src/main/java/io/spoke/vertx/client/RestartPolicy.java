// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import io.spoke.vertx.internal.OptionsJson;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * When an actor or managed process that dies is started again, in place: on the same node, with the same GPU ids,
 * the same reserved ports and the same id, after a back-off that starts at {@link #backoffMs()} and doubles with each
 * restart in a row (up to {@value #MAX_BACKOFF_MS} ms); at most {@link #maxRestarts()} times within
 * {@link #windowMs()} (0: since the first start). Past that it stays dead and its owner is told, as without a policy.
 * A stop, its ticket's release or its agent's stop never restart it; {@code SPOKE_ATTEMPT} counts its starts
 * (0, 1, 2, ...). Immutable.
 */
public final class RestartPolicy {

  /** What counts as a death to restart after. */
  public enum Mode {
    /** Never (the default): a death is final. */
    NEVER,
    /** After an exit status other than 0 (a signal included). */
    ON_FAILURE,
    /** After any exit that was not a stop. */
    ALWAYS
  }

  public static final int DEFAULT_MAX_RESTARTS = 3;
  public static final long DEFAULT_WINDOW_MS = 600_000;
  public static final long DEFAULT_BACKOFF_MS = 1_000;
  /** The longest back-off. */
  public static final long MAX_BACKOFF_MS = 30_000;

  private static final List<String> KEYS = List.of("mode", "maxRestarts", "windowMs", "backoffMs");
  private static final RestartPolicy NEVER = new RestartPolicy(Mode.NEVER, 0, DEFAULT_WINDOW_MS, DEFAULT_BACKOFF_MS);

  private final Mode mode;
  private final int maxRestarts;
  private final long windowMs;
  private final long backoffMs;

  private RestartPolicy(Mode mode, int maxRestarts, long windowMs, long backoffMs) {
    this.mode = Objects.requireNonNull(mode, "mode");
    if (maxRestarts < 0) {
      throw new IllegalArgumentException("maxRestarts must be >= 0, got " + maxRestarts);
    }
    if (windowMs < 0) {
      throw new IllegalArgumentException("windowMs must be >= 0, got " + windowMs);
    }
    if (backoffMs < 0 || backoffMs > MAX_BACKOFF_MS) {
      throw new IllegalArgumentException("backoffMs must be in 0.." + MAX_BACKOFF_MS + ", got " + backoffMs);
    }
    this.maxRestarts = maxRestarts;
    this.windowMs = windowMs;
    this.backoffMs = backoffMs;
  }

  /** A death is final (the default). */
  public static RestartPolicy never() {
    return NEVER;
  }

  /** Restart after an exit status other than 0, at most {@code maxRestarts} times in the default window. */
  public static RestartPolicy onFailure(int maxRestarts) {
    return new RestartPolicy(Mode.ON_FAILURE, maxRestarts, DEFAULT_WINDOW_MS, DEFAULT_BACKOFF_MS);
  }

  /** Restart after any exit that was not a stop, at most {@code maxRestarts} times in the default window. */
  public static RestartPolicy always(int maxRestarts) {
    return new RestartPolicy(Mode.ALWAYS, maxRestarts, DEFAULT_WINDOW_MS, DEFAULT_BACKOFF_MS);
  }

  /** A policy of {@code mode} with all its numbers given. */
  public static RestartPolicy of(Mode mode, int maxRestarts, long windowMs, long backoffMs) {
    return new RestartPolicy(mode, maxRestarts, windowMs, backoffMs);
  }

  /** {@code never}, {@code on-failure} or {@code always}, as the command line spells them. */
  public static Mode mode(String name) {
    try {
      return Mode.valueOf(name.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("a restart policy is never, on-failure or always, got '" + name + "'");
    }
  }

  /** Unknown keys are refused. */
  public static RestartPolicy fromJson(JsonObject json) {
    OptionsJson o = new OptionsJson(json, "restart", KEYS);
    return new RestartPolicy(mode(o.string("mode", "never")), o.integer("maxRestarts", DEFAULT_MAX_RESTARTS),
      o.longValue("windowMs", DEFAULT_WINDOW_MS), o.longValue("backoffMs", DEFAULT_BACKOFF_MS));
  }

  public JsonObject toJson() {
    return new JsonObject().put("mode", mode.name().toLowerCase(Locale.ROOT).replace('_', '-')).put("maxRestarts", maxRestarts)
      .put("windowMs", windowMs).put("backoffMs", backoffMs);
  }

  /** A copy restarting at most {@code maxRestarts} times. */
  public RestartPolicy withMaxRestarts(int maxRestarts) {
    return new RestartPolicy(mode, maxRestarts, windowMs, backoffMs);
  }

  /** A copy counting restarts within {@code windowMs} (0: since the first start). */
  public RestartPolicy withWindowMs(long windowMs) {
    return new RestartPolicy(mode, maxRestarts, windowMs, backoffMs);
  }

  /** A copy whose first back-off is {@code backoffMs}. */
  public RestartPolicy withBackoffMs(long backoffMs) {
    return new RestartPolicy(mode, maxRestarts, windowMs, backoffMs);
  }

  public Mode mode() {
    return mode;
  }

  public int maxRestarts() {
    return maxRestarts;
  }

  public long windowMs() {
    return windowMs;
  }

  public long backoffMs() {
    return backoffMs;
  }

  /** Whether an exit with {@code status} (not a stop) calls for a restart, budget aside. */
  public boolean restartsAfter(int status) {
    return mode == Mode.ALWAYS || (mode == Mode.ON_FAILURE && status != 0);
  }

  /** The back-off before restart number {@code n} in a row (1, 2, ...): the first, doubled each time, at most 30 s. */
  public long backoffBefore(int n) {
    long delay = backoffMs;
    for (int i = 1; i < n && delay < MAX_BACKOFF_MS; i++) {
      delay *= 2;
    }
    return Math.min(delay, MAX_BACKOFF_MS);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RestartPolicy p && p.mode == mode && p.maxRestarts == maxRestarts && p.windowMs == windowMs
      && p.backoffMs == backoffMs;
  }

  @Override
  public int hashCode() {
    return Objects.hash(mode, maxRestarts, windowMs, backoffMs);
  }

  @Override
  public String toString() {
    return "RestartPolicy" + toJson().encode();
  }
}
