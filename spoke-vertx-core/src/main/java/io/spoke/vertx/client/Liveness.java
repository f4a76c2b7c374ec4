// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import java.util.Locale;
import java.util.Objects;

/**
 * How the agent checks that a running actor or process is alive, every {@link #intervalMs()}: for a Java actor a ping
 * answered on the actor's own event loop ({@link #ping}, so that a loop blocked for good counts as dead), for any
 * process a TCP port that accepts ({@link #tcp}) or an HTTP GET that answers 2xx ({@link #http}), each within the
 * interval. {@link #failures()} failed checks in a row count as a death: the agent kills it (its whole tree), and its
 * {@link RestartPolicy} decides what comes next. Checks start once it is ready. Immutable.
 */
public final class Liveness {

  /** The kinds of check. */
  public enum Kind { NONE, PING, TCP, HTTP }

  public static final long DEFAULT_INTERVAL_MS = 5_000;
  public static final int DEFAULT_FAILURES = 3;

  private static final Liveness NONE = new Liveness(Kind.NONE, "", DEFAULT_INTERVAL_MS, DEFAULT_FAILURES);

  private final Kind kind;
  private final String target;
  private final long intervalMs;
  private final int failures;

  private Liveness(Kind kind, String target, long intervalMs, int failures) {
    if (intervalMs < 10) {
      throw new IllegalArgumentException("a liveness check's interval must be at least 10 ms, got " + intervalMs);
    }
    if (failures < 1) {
      throw new IllegalArgumentException("a liveness check needs at least 1 failure to count, got " + failures);
    }
    this.kind = kind;
    this.target = target;
    this.intervalMs = intervalMs;
    this.failures = failures;
  }

  /** No check (the default): only an exit counts as a death. */
  public static Liveness none() {
    return NONE;
  }

  /** A Java actor's ping, answered on its event loop. */
  public static Liveness ping() {
    return new Liveness(Kind.PING, "", DEFAULT_INTERVAL_MS, DEFAULT_FAILURES);
  }

  /** A TCP port on its node that accepts (a number, or {@code ${VAR}}). */
  public static Liveness tcp(String port) {
    return new Liveness(Kind.TCP, Readiness.tcp(port).target(), DEFAULT_INTERVAL_MS, DEFAULT_FAILURES);
  }

  /** An HTTP GET of {@code url} that answers 2xx ({@code ${VAR}} allowed). */
  public static Liveness http(String url) {
    return new Liveness(Kind.HTTP, Readiness.http(url).target(), DEFAULT_INTERVAL_MS, DEFAULT_FAILURES);
  }

  /** {@code ping}, {@code tcp:PORT}, {@code http:URL} (or the URL alone), or {@code none}, as the command line says it. */
  public static Liveness parse(String spec) {
    if (spec == null || spec.isEmpty() || spec.equals("none")) {
      return NONE;
    }
    if (spec.equals("ping")) {
      return ping();
    }
    Readiness check = Readiness.parse(spec);
    return switch (check.kind()) {
      case TCP -> tcp(check.target());
      case HTTP -> http(check.target());
      default -> throw new IllegalArgumentException("a liveness check is ping, tcp:PORT, http:URL or none, got '" + spec + "'");
    };
  }

  /** Reads what {@link #kind()}, {@link #target()}, {@link #intervalMs()} and {@link #failures()} said. */
  public static Liveness of(Kind kind, String target, long intervalMs, int failures) {
    Objects.requireNonNull(kind, "kind");
    return switch (kind) {
      case NONE -> NONE;
      case PING -> ping().withInterval(intervalMs).withFailures(failures);
      case TCP -> tcp(target).withInterval(intervalMs).withFailures(failures);
      case HTTP -> http(target).withInterval(intervalMs).withFailures(failures);
    };
  }

  /** A copy checking every {@code intervalMs} (each check must answer within it). */
  public Liveness withInterval(long intervalMs) {
    return new Liveness(kind, target, intervalMs, failures);
  }

  /** A copy for which {@code failures} failed checks in a row count as a death. */
  public Liveness withFailures(int failures) {
    return new Liveness(kind, target, intervalMs, failures);
  }

  public Kind kind() {
    return kind;
  }

  /** The port or URL; empty for {@link Kind#NONE} and {@link Kind#PING}. */
  public String target() {
    return target;
  }

  public long intervalMs() {
    return intervalMs;
  }

  public int failures() {
    return failures;
  }

  /** The check as {@link Readiness} says it, for TCP and HTTP. */
  public Readiness asReadiness() {
    return switch (kind) {
      case TCP -> Readiness.tcp(target);
      case HTTP -> Readiness.http(target);
      default -> Readiness.none();
    };
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Liveness l && l.kind == kind && l.target.equals(target) && l.intervalMs == intervalMs && l.failures == failures;
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, target, intervalMs, failures);
  }

  @Override
  public String toString() {
    return (kind == Kind.NONE ? "none" : kind == Kind.PING ? "ping" : kind.name().toLowerCase(Locale.ROOT) + ":" + target)
      + (kind == Kind.NONE ? "" : " every " + intervalMs + " ms, " + failures + " failures");
  }
}
