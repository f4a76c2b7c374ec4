// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * How the agent knows that a managed process is ready: its launch completes then, as a Java actor's spawn completes
 * once the actor listens. One of: at once ({@link #none()}), a TCP port on its node accepting connections
 * ({@link #tcp}), an HTTP GET answering 2xx ({@link #http}), or a line of its output (stdout or stderr) matching a
 * regular expression ({@link #log}). {@code ${VAR}} in the port or URL is replaced with the process's environment
 * variable {@code VAR}, so that {@code tcp:${SPOKE_PORT_0}} waits for the port Spoke reserved for it. Immutable.
 */
public final class Readiness {

  /** The kinds of check. */
  public enum Kind { NONE, TCP, HTTP, LOG }

  private static final Readiness NONE = new Readiness(Kind.NONE, "");

  private final Kind kind;
  private final String target;

  private Readiness(Kind kind, String target) {
    this.kind = kind;
    this.target = target;
  }

  /** Ready as soon as it has started. */
  public static Readiness none() {
    return NONE;
  }

  /** Ready when {@code port} (a number, or {@code ${VAR}}) accepts a TCP connection on the process's node. */
  public static Readiness tcp(String port) {
    Objects.requireNonNull(port, "port");
    if (!port.matches("\\d{1,5}|\\$\\{[A-Za-z_][A-Za-z0-9_]*}")) {
      throw new IllegalArgumentException("a tcp readiness check takes a port number or ${VAR}, got '" + port + "'");
    }
    if (!port.startsWith("$") && (Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535)) {
      throw new IllegalArgumentException("a tcp readiness check's port must be in 1..65535, got " + port);
    }
    return new Readiness(Kind.TCP, port);
  }

  /** Ready when {@code port} accepts a TCP connection. */
  public static Readiness tcp(int port) {
    return tcp(String.valueOf(port));
  }

  /** Ready when an HTTP GET of {@code url} ({@code http://HOST:PORT/PATH}; {@code ${VAR}} allowed) answers 2xx. */
  public static Readiness http(String url) {
    Objects.requireNonNull(url, "url");
    if (!url.startsWith("http://")) {
      throw new IllegalArgumentException("an http readiness check takes an http:// URL, got '" + url + "'");
    }
    return new Readiness(Kind.HTTP, url);
  }

  /** Ready when a line of the process's output matches {@code regex} (anywhere in the line, as {@code grep}). */
  public static Readiness log(String regex) {
    Objects.requireNonNull(regex, "regex");
    try {
      Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException("a log readiness check's regular expression does not compile: " + e.getMessage());
    }
    return new Readiness(Kind.LOG, regex);
  }

  /**
   * The check a command line or a message names: {@code tcp:PORT}, {@code http:URL} (or the URL alone),
   * {@code log:REGEX}, or {@code none} (or empty, or {@code null}) for at once.
   */
  public static Readiness parse(String spec) {
    if (spec == null || spec.isEmpty() || spec.equals("none")) {
      return NONE;
    }
    if (spec.startsWith("tcp:")) {
      return tcp(spec.substring(4));
    }
    if (spec.startsWith("http://")) {
      return http(spec);
    }
    if (spec.startsWith("http:")) {
      return http(spec.substring(5));
    }
    if (spec.startsWith("log:")) {
      return log(spec.substring(4));
    }
    throw new IllegalArgumentException("a readiness check is tcp:PORT, http:URL, log:REGEX or none, got '" + spec + "'");
  }

  public Kind kind() {
    return kind;
  }

  /** The port, URL or regular expression; empty for {@link Kind#NONE}. */
  public String target() {
    return target;
  }

  /** The form {@link #parse} reads. */
  @Override
  public String toString() {
    return kind == Kind.NONE ? "none" : kind.name().toLowerCase(java.util.Locale.ROOT) + ":" + target;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Readiness r && r.kind == kind && r.target.equals(target);
  }

  @Override
  public int hashCode() {
    return kind.hashCode() * 31 + target.hashCode();
  }
}
