// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal;

import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * How the command of a role ({@code spoke hub}, {@code spoke agent}) ends: at a signal, its Vert.x is closed within a
 * timeout by a shutdown hook; when it cannot start, it says why and exits non-zero at once. The exit never runs on an
 * event loop: {@link System#exit} blocks its caller while the shutdown hooks run, and the hook that closes Vert.x would
 * wait for that very loop, which would hang the process with its loop blocked.
 */
public final class MainExit {

  private final String command;
  private final Vertx vertx;
  private final AtomicBoolean exiting = new AtomicBoolean();

  /**
   * Closes {@code vertx} within {@code closeTimeoutMs} when the JVM is told to stop (SIGTERM, Ctrl-C).
   *
   * @param command what the user typed, for messages: {@code "spoke hub"}
   */
  public MainExit(String command, Vertx vertx, long closeTimeoutMs) {
    this.command = command;
    this.vertx = vertx;
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (exiting.compareAndSet(false, true)) {
        close(closeTimeoutMs);
      }
    }, command.replace(' ', '-') + "-shutdown"));
  }

  /**
   * The role could not start: prints {@code "<command>: cannot start: <why>"} on standard error, closes Vert.x (at most
   * 5 s) and exits with status 1, from a thread of its own. Safe to call on an event loop.
   */
  public void cannotStart(Throwable why) {
    String message = why.getMessage() != null ? why.getMessage() : why.toString();
    exit(1, command + ": cannot start: " + message, 5_000);
  }

  /**
   * The role's work is over ({@code spoke agent} dismissed by its hub, say): prints {@code line} on standard error,
   * closes Vert.x (at most {@code closeTimeoutMs}, so that its actors stop) and exits with {@code status}, from a
   * thread of its own. Safe to call on an event loop.
   */
  public void exit(int status, String line, long closeTimeoutMs) {
    Thread exit = new Thread(() -> {
      System.err.println(line);
      System.err.flush();
      if (exiting.compareAndSet(false, true)) {
        close(closeTimeoutMs);
      }
      System.exit(status);
    }, command.replace(' ', '-') + "-exit");
    exit.start();
  }

  private void close(long timeoutMs) {
    try {
      vertx.close().await(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      // exiting anyway: children get their parent-death signal
    }
  }
}
