// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.process;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Starts and kills actor processes from one dedicated, long-lived thread.
 * <p>
 * Why one thread: Linux sends the parent-death signal armed with {@code prctl(PR_SET_PDEATHSIG)} when the
 * <em>thread</em> that forked the child exits, not the process. Children forked from a pooled thread
 * would be killed whenever the pool retires that thread. This thread lives as long as the launcher, and
 * its loop never lets an exception end it.
 * <p>
 * Each child runs as {@code setsid setpriv --pdeathsig KILL -- <command>} (util-linux): {@code setsid} puts
 * it in a process group of its own, so that stopping it also stops what it started, and {@code setpriv}
 * arms the parent-death signal before exec'ing the command. Both exec in place, so the child's pid is the
 * command's pid. Where these tools are missing, children start without them and a warning says so.
 * <p>
 * That thread only forks. Signals are {@code kill(2)} calls ({@link Signals}) made where they are asked for, and
 * what waits (a tree's kill, which may take up to two seconds; a fork of {@code /bin/kill} where JNA is missing)
 * runs on a kill lane of its own: a burst of stops never queues a spawn behind it.
 */
public final class ProcessLauncher implements AutoCloseable {

  private static final Logger log = LogManager.getLogger(ProcessLauncher.class);

  /** Threads of the kill lane: two, so that one tree's kill that waits does not hold back the next. */
  private static final int KILL_THREADS = 2;

  private final BlockingQueue<Runnable> tasks = new LinkedBlockingQueue<>();
  private final Thread thread;
  private final ExecutorService kills = Executors.newFixedThreadPool(KILL_THREADS, r -> {
    Thread t = new Thread(r, "spoke-kills");
    t.setDaemon(true);
    return t;
  });
  private volatile boolean closed;
  private final boolean deathSignal;
  private final boolean ownGroup;
  private final boolean groupKill;

  public ProcessLauncher() {
    thread = new Thread(this::loop, "spoke-launcher");
    thread.setDaemon(true);
    thread.start();
    deathSignal = works("setpriv", "--pdeathsig", "KILL", "--", "true");
    ownGroup = works("setsid", "true");
    groupKill = ownGroup && (Signals.available() || new File("/bin/kill").canExecute());
    if (!deathSignal) {
      log.warn("util-linux setpriv is missing: actor processes will not be killed if this agent dies (apt-get install util-linux)");
    }
    if (!ownGroup) {
      log.warn("util-linux setsid is missing: stopping an actor will not stop the processes it started");
    }
  }

  private void loop() {
    while (!closed || !tasks.isEmpty()) {
      Runnable task;
      try {
        task = tasks.poll(100, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        continue;
      }
      if (task != null) {
        try {
          task.run();
        } catch (RuntimeException | Error e) {
          log.error("Launcher task failed", e);
        }
      }
    }
  }

  /** Whether children get the parent-death signal. */
  public boolean deathSignal() {
    return deathSignal;
  }

  /** Runs {@code task} on the launcher thread; the result comes back on {@code context}. */
  private <T> Future<T> submit(ContextInternal context, Callable<T> task) {
    return runOn(tasks::add, context, task);
  }

  /** Runs {@code task} on the kill lane; the result comes back on {@code context}. */
  private <T> Future<T> submitKill(ContextInternal context, Callable<T> task) {
    return runOn(kills::execute, context, task);
  }

  private <T> Future<T> runOn(Executor lane, ContextInternal context, Callable<T> task) {
    Promise<T> promise = context.promise();
    if (closed) {
      promise.fail(new IllegalStateException("the launcher is closed"));
      return promise.future();
    }
    lane.execute(() -> {
      T result;
      try {
        result = task.call();
      } catch (Exception e) {
        context.runOnContext(v -> promise.fail(e));
        return;
      }
      context.runOnContext(v -> promise.complete(result));
    });
    return promise.future();
  }

  /**
   * Starts {@code command} with stdout and stderr appended to {@code logFile}.
   *
   * @param env the complete environment of the child
   * @param input what the child reads on its standard input, then end of file (a pipe; a few bytes, so writing
   *              never waits); {@code null} for none ({@code /dev/null})
   */
  public Future<Process> start(ContextInternal context, List<String> command, Map<String, String> env, Path logFile, byte[] input) {
    return start(context, command, env, logFile, input, null);
  }

  /** As {@link #start(ContextInternal, List, Map, Path, byte[])}, in working directory {@code workdir} (null: the agent's). */
  public Future<Process> start(ContextInternal context, List<String> command, Map<String, String> env, Path logFile, byte[] input,
                               Path workdir) {
    List<String> full = new ArrayList<>();
    if (ownGroup) {
      full.add("setsid");
    }
    if (deathSignal) {
      full.addAll(List.of("setpriv", "--pdeathsig", "KILL", "--"));
    }
    full.addAll(command);
    return submit(context, () -> {
      ProcessBuilder builder = new ProcessBuilder(full)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
        .redirectInput(input == null ? ProcessBuilder.Redirect.from(new File("/dev/null")) : ProcessBuilder.Redirect.PIPE);
      builder.environment().clear();
      builder.environment().putAll(env);
      if (workdir != null) {
        builder.directory(workdir.toFile());
      }
      Process process = builder.start();
      if (input != null) {
        try (java.io.OutputStream stdin = process.getOutputStream()) {
          stdin.write(input);
        } catch (java.io.IOException e) {
          // The child died at once: its exit is reported like any other.
          log.debug("Cannot write to the standard input of {}: {}", process.pid(), e.toString());
        }
      }
      return process;
    });
  }

  /**
   * Starts {@code command} (the {@link ProcessTrees#janitor()}) with the parent-death signal set to SIGTERM, so that it
   * hears of this agent's death (of this thread's, which lives as long as the agent) and can clean up after it; its
   * output is discarded. Empty where {@code setpriv} is missing: nothing would wake it.
   */
  public Future<Process> startJanitor(ContextInternal context, List<String> command) {
    if (!deathSignal) {
      return context.succeededFuture();
    }
    List<String> full = new ArrayList<>(List.of("setpriv", "--pdeathsig", "TERM", "--"));
    full.addAll(command);
    return submit(context, () -> new ProcessBuilder(full).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
      .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start());
  }

  /** Sends signal {@code signal} (a number) to process {@code pid} alone; false when it has gone already. */
  public Future<Boolean> signal(ContextInternal context, long pid, int signal) {
    if (Signals.available()) {
      return context.succeededFuture(Signals.send(pid, signal) == 0);
    }
    return submitKill(context, () -> forkKill(String.valueOf(signal), String.valueOf(pid)));
  }

  /**
   * SIGKILLs a child and everything in its process group (or, without process groups, its descendants).
   */
  public Future<Void> kill(ContextInternal context, ProcessHandle process) {
    return killGroup(context, process.pid()).compose(v -> submitKill(context, () -> {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      return null;
    }));
  }

  /**
   * SIGKILLs what is left of the process group of a child that has exited: processes it started and did
   * not stop. A no-op without process groups.
   */
  public Future<Void> killGroup(ContextInternal context, long pgid) {
    if (!groupKill) {
      return context.succeededFuture();
    }
    if (Signals.available()) {
      Signals.send(-pgid, 9);
      return context.succeededFuture();
    }
    return submitKill(context, () -> {
      forkKill("KILL", "-" + pgid);
      return null;
    });
  }

  /**
   * Kills {@code tree} ({@link ProcessTrees.Tree#kill}) on the kill lane: how many of its processes were left after
   * the wait.
   */
  public Future<Integer> killTree(ContextInternal context, ProcessTrees.Tree tree) {
    return submitKill(context, tree::kill);
  }

  /** {@code /bin/kill -s SIGNAL -- TARGET}, where kill(2) cannot be called: whether it succeeded. Blocks. */
  private static boolean forkKill(String signal, String target) {
    try {
      Process kill = new ProcessBuilder("/bin/kill", "-s", signal, "--", target).redirectErrorStream(true).start();
      kill.getInputStream().readAllBytes();
      return kill.waitFor(5, TimeUnit.SECONDS) && kill.exitValue() == 0;
    } catch (IOException e) {
      log.warn("kill -s {} {} failed: {}", signal, target, e.toString());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static boolean works(String... command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Stops the thread after the tasks already queued. Children it started get their death signal then. */
  @Override
  public void close() {
    closed = true;
    kills.shutdown();
  }
}
