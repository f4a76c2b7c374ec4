package io.spoke.vertx.test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Kills, after each test, every process the test registered (and their descendants) that is still alive,
 * by PID. Register it with {@code @RegisterExtension static ProcessCleanup processes = new ProcessCleanup();}
 * and {@link #track} each actor or agent a test starts.
 */
public final class ProcessCleanup implements AfterEachCallback {

  private final List<Long> pids = new ArrayList<>();

  /** Remembers {@code pid} for cleanup; returns it. */
  public synchronized long track(long pid) {
    pids.add(pid);
    return pid;
  }

  public Process track(Process process) {
    track(process.pid());
    return process;
  }

  @Override
  public void afterEach(ExtensionContext context) {
    List<Long> copy;
    synchronized (this) {
      copy = new ArrayList<>(pids);
      pids.clear();
    }
    for (long pid : copy) {
      Optional<ProcessHandle> handle = ProcessHandle.of(pid);
      if (handle.isPresent() && handle.get().isAlive()) {
        handle.get().descendants().forEach(ProcessHandle::destroyForcibly);
        handle.get().destroyForcibly();
        try {
          handle.get().onExit().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
          throw new IllegalStateException("process " + pid + " did not exit after SIGKILL", e);
        }
      }
    }
  }

  /** Whether {@code pid} is a live process. */
  public static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
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
