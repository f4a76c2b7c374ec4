// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Kills every process a test registered (and their descendants) that is still alive, by PID: those
 * {@linkplain #track tracked} during a test after it, those {@linkplain #trackForClass tracked for the class}
 * after the class. Register it with {@code @RegisterExtension static ProcessCleanup processes = new ProcessCleanup();}.
 */
public final class ProcessCleanup implements AfterEachCallback, AfterAllCallback {

  // Handles, not pids: a handle knows its process's start time, so a reused pid is never killed by mistake.
  private final List<ProcessHandle> pids = new ArrayList<>();
  private final List<ProcessHandle> classPids = new ArrayList<>();

  /** Remembers {@code pid} for cleanup after the current test; returns it. */
  public synchronized long track(long pid) {
    ProcessHandle.of(pid).ifPresent(pids::add);
    return pid;
  }

  /** Remembers {@code pid} for cleanup after the test class (processes shared by its tests); returns it. */
  public synchronized long trackForClass(long pid) {
    ProcessHandle.of(pid).ifPresent(classPids::add);
    return pid;
  }

  public Process track(Process process) {
    track(process.pid());
    return process;
  }

  @Override
  public void afterEach(ExtensionContext context) {
    List<ProcessHandle> copy;
    synchronized (this) {
      copy = new ArrayList<>(pids);
      pids.clear();
    }
    kill(copy);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    List<ProcessHandle> copy;
    synchronized (this) {
      copy = new ArrayList<>(classPids);
      copy.addAll(pids);
      classPids.clear();
      pids.clear();
    }
    kill(copy);
  }

  private static void kill(List<ProcessHandle> handles) {
    for (ProcessHandle handle : handles) {
      if (handle.isAlive()) {
        handle.descendants().forEach(ProcessHandle::destroyForcibly);
        handle.destroyForcibly();
        try {
          handle.onExit().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
          throw new IllegalStateException("process " + handle.pid() + " did not exit after SIGKILL", e);
        }
      }
    }
  }

  /**
   * Whether {@code pid} is a live process. A zombie (exited, not yet reaped by its parent or by init) is not:
   * {@link ProcessHandle#isAlive()} counts it as alive, and some inits reap late.
   */
  public static boolean alive(long pid) {
    if (!ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
      return false;
    }
    try {
      String stat = java.nio.file.Files.readString(java.nio.file.Paths.get("/proc", String.valueOf(pid), "stat"));
      // "pid (command) S ...": the state follows the last ')', since the command may contain anything.
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state != 'Z' && state != 'X';
    } catch (java.io.IOException | RuntimeException e) {
      return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }
  }

  /**
   * Waits until {@code pid} has exited; returns the milliseconds it took, or fails after {@code timeoutMs}.
   */
  public static long awaitExit(long pid, long timeoutMs) {
    long start = System.nanoTime();
    long deadline = start + timeoutMs * 1_000_000L;
    while (alive(pid)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("process " + pid + " is still alive after " + timeoutMs + " ms");
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted", e);
      }
    }
    return (System.nanoTime() - start) / 1_000_000L;
  }
}
