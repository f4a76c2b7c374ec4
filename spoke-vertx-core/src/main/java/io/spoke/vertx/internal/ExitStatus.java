// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal;

/**
 * Exit statuses in words, for the messages users read when an actor dies.
 */
public final class ExitStatus {

  private static final String[] SIGNALS = {null, "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS",
    "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM"};

  /** The status of an instance that had no process to exit (it could not start), or whose status was never known. */
  public static final int UNKNOWN = -1;

  private ExitStatus() {
  }

  /** "exited with status 1", "killed by SIGKILL (exit status 137)". Java reports death by signal n as 128 + n. */
  public static String describe(int status) {
    if (status < 0) {
      return "exit status unknown";
    }
    if (status > 128 && status - 128 < SIGNALS.length) {
      return "killed by " + SIGNALS[status - 128] + " (exit status " + status + ")";
    }
    return "exited with status " + status;
  }
}
