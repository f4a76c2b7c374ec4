// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.process;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Signals sent with {@code kill(2)} from this JVM (through JNA's direct mapping of the C library), where Java has only
 * SIGTERM and SIGKILL to one process ({@link ProcessHandle#destroy}): any signal, to a process or to a whole process
 * group. A call is one system call, so it runs where it is asked for, an event loop included. Where JNA cannot load
 * its native part, {@link #available()} is false and the caller forks {@code /bin/kill} instead.
 */
final class Signals {

  private static final Logger log = LogManager.getLogger(Signals.class);

  /** {@code errno} of a process or group that does not exist (any more). */
  static final int ESRCH = 3;

  private static final boolean AVAILABLE = register();

  private Signals() {
  }

  private static boolean register() {
    try {
      Native.register(Signals.class, Platform.C_LIBRARY_NAME);
      return true;
    } catch (Throwable e) {
      // UnsatisfiedLinkError, or JNA's own classes failing to load: signals are sent by forking /bin/kill.
      log.warn("Cannot call kill(2) through JNA ({}): signals are sent with /bin/kill", e.toString());
      return false;
    }
  }

  private static native int kill(int pid, int signal) throws LastErrorException;

  /** Whether {@link #send} can be called. */
  static boolean available() {
    return AVAILABLE;
  }

  /**
   * Sends {@code signal} to process {@code pid}, or to process group {@code -pid} when {@code pid} is negative.
   * Returns 0 when it was sent, else the {@code errno} ({@link #ESRCH}: nobody is there).
   */
  static int send(long pid, int signal) {
    if (pid == 0 || pid == -1 || pid != (int) pid) {
      // 0 and -1 would signal this agent's own group, or every process it may signal.
      throw new IllegalArgumentException("no signal to pid " + pid);
    }
    try {
      kill((int) pid, signal);
      return 0;
    } catch (LastErrorException e) {
      return e.getErrorCode();
    }
  }
}
