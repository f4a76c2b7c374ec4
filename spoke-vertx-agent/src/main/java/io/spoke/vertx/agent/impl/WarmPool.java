// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import io.spoke.vertx.agent.process.ActorLogs;
import io.spoke.vertx.agent.process.ProcessTrees;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.ActorHostCodec;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.vertx.core.Future;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Actor hosts started ahead of their actors: each is a JVM with Vert.x up, its classes loaded (from the CDS archive
 * once the first cold actor has trained it), connected and authenticated to the
 * agent, its actor types found, and its bootstrap waiting for an answer. A spawn that asks for nothing a warm host
 * lacks (no JVM options beyond the agent's, no environment of its own: both are fixed when a JVM starts) takes one,
 * and the answer to that bootstrap makes it the actor.
 * <p>
 * The pool refills one host at a time, and only when spawns have been quiet for {@link #QUIET_MS} ms and no cold
 * spawn is starting: a refill is a JVM start, and on a small machine it would slow the spawns it follows. It keeps at
 * most {@code warmPool} idle hosts and stops short of {@code warmPoolMemoryMb} of their resident memory. A host that
 * dies while idle is replaced; when {@link #FAILURES_TO_PAUSE} in a row die before they are warm, the pool warns and
 * pauses for {@link #PAUSE_MS} ms, and spawns start cold meanwhile. Confined to the agent's event loop.
 */
final class WarmPool {

  private static final Logger log = LogManager.getLogger(WarmPool.class);

  static final long QUIET_MS = 300;
  static final int FAILURES_TO_PAUSE = 3;
  static final long PAUSE_MS = 60_000;

  /** One warm host, from its start until its exit (as an idle host, or as the actor that took it). */
  static final class Host {
    final String id;
    final String secret;
    Process process;
    long pid;
    Path logFile;
    /** Its process tree, which becomes its actor's when a spawn takes it. */
    ProcessTrees.Tree tree;
    Connection connection;
    /** Its bootstrap, which a spawn answers; -1 until it asked (then it is warm). */
    long bootstrap = -1;
    long rss = -1;
    /** The actor that took it, or null while it is idle. */
    ActorProcess proc;
    /** Completed when it exited idle (or never started). */
    final io.vertx.core.Promise<Void> exited = io.vertx.core.Promise.promise();

    Host(String id, String secret) {
      this.id = id;
      this.secret = secret;
    }
  }

  private final AgentState state;
  private final ActorSupervisor supervisor;
  /** Hosts starting and idle, by id, oldest first. */
  private final Map<String, Host> hosts = new LinkedHashMap<>();
  private int started;
  private long lastSpawnNanos;
  private int failures;
  private long pausedUntilNanos;
  private long timer = -1;
  private boolean closed;

  WarmPool(AgentState state, ActorSupervisor supervisor) {
    this.state = state;
    this.supervisor = supervisor;
  }

  int size() {
    return state.options.getWarmPool();
  }

  /** Warm hosts waiting for an actor. */
  int idle() {
    return (int) hosts.values().stream().filter(h -> h.bootstrap >= 0).count();
  }

  /** Warm hosts starting. */
  int starting() {
    return hosts.size() - idle();
  }

  /** Pids of the idle and starting hosts, for tests. */
  List<Long> pids() {
    List<Long> pids = new ArrayList<>();
    hosts.values().forEach(h -> {
      if (h.pid > 0) {
        pids.add(h.pid);
      }
    });
    return pids;
  }

  /**
   * Starts filling the pool. Called once the agent is registered: a host's environment holds the address its actor
   * listens on, the one the agent advertises to the hub. The logs of hosts an earlier agent left are removed first.
   */
  void start() {
    ActorLogs logs = state.logs;
    state.vertx.executeBlocking(() -> {
      logs.clearWarmLogs();
      return null;
    }).onComplete(ar -> {
      if (size() > 0 && !closed) {
        log.info("Keeping {} warm actor host(s), within {} MiB", size(), state.options.getWarmPoolMemoryMb());
        // After the spawns that come with the agent's start, as every refill.
        schedule(QUIET_MS);
      }
    });
  }

  /**
   * A spawn of a Java actor with {@code jvmOptions} (the agent's and its own) and {@code userEnv} is starting: a warm
   * host that can be it, taken out of the pool, or null (it starts cold). Refills wait for spawns to be quiet.
   */
  Host take(List<String> jvmOptions, Map<String, String> userEnv) {
    lastSpawnNanos = System.nanoTime();
    Host taken = null;
    if (!closed && !state.stopping && userEnv.isEmpty() && jvmOptions.equals(state.options.getActorJvmOptions())) {
      for (Host host : hosts.values()) {
        if (host.bootstrap >= 0 && host.connection != null && !host.connection.isClosed()) {
          taken = host;
          break;
        }
      }
    }
    if (taken != null) {
      hosts.remove(taken.id);
    }
    schedule(QUIET_MS);
    return taken;
  }

  /**
   * Starts {@code proc} in a warm host: its log becomes the actor's, and the answer to its bootstrap makes it the actor;
   * completes as {@link #start} does, when the actor is ready.
   */
  Future<ActorInfo> start(ActorProcess proc, Host host) {
    proc.localSocket = state.sockets == null ? null : state.sockets.next();
    proc.actorEnv = ActorCommand.actorEnvironment(proc.userEnv, proc.actorId, proc.gpuIds, proc.slot, state.inventory.gpuEnvManaged,
      state.nodeId, proc.actorType, 0);
    proc.spawnKind = AgentMetrics.SpawnKind.WARM;
    proc.process = host.process;
    proc.pid = host.pid;
    proc.cdsKey = host.id;
    proc.host = host.connection;
    proc.logFile = host.logFile;
    proc.tree = host.tree;
    host.proc = proc;
    state.actors.put(proc.actorId, proc);
    String header = ActorCommand.logHeader(proc.actorId, proc.actorType, state.nodeId, proc.slot, proc.gpuIds, Instant.now());
    String group = proc.slot == null ? null : proc.slot.ticketId();
    supervisor.armSpawnTimer(proc);
    state.vertx.executeBlocking(() -> state.logs.adopt(host.logFile, group, proc.actorId, header), false).onComplete(ar -> {
      if (ar.succeeded()) {
        proc.logFile = ar.result();
      } else {
        log.warn("Actor {} keeps the log of warm host {}, {}: {}", proc.actorId, host.id, host.logFile, ar.cause().toString());
      }
      if (proc.exited) {
        return;
      }
      log.info("Actor {} ({}) takes warm host {} (pid {}); log {}", proc.actorId, proc.actorType, host.id, proc.pid, proc.logFile);
      if (proc.stopRequested || proc.spawnTimedOut || proc.host == null) {
        supervisor.kill(proc);
      } else {
        proc.host.reply(host.bootstrap, ActorHostListener.spec(state, proc), proc.args);
      }
    });
    return proc.spawned.future();
  }

  /** The host that {@code name} and {@code secret} prove to be, connecting; null if none is. */
  Host connecting(String name, String secret, Connection connection) {
    Host host = name == null ? null : hosts.get(name);
    if (host == null || !Secrets.matches(host.secret, secret) || host.connection != null) {
      return null;
    }
    host.connection = connection;
    return host;
  }

  /** A message from a host no actor has taken: its bootstrap (it is warm now), or its failure to get there. */
  void onIdleMessage(Host host, Connection connection, Frame frame) {
    long id = frame.id();
    if (frame.bodyType() == Body.Bootstrap) {
      host.bootstrap = id;
      failures = 0;
      log.info("Warm actor host {} (pid {}) waits for an actor; {} of {} warm", host.id, host.pid, idle(), size());
      long pid = host.pid;
      state.vertx.executeBlocking(() -> AgentMetrics.rss(pid), false).onSuccess(rss -> host.rss = rss);
      schedule(QUIET_MS);
    } else if (frame.bodyType() == Body.StartFailed) {
      log.warn("Warm actor host {} could not get warm: {}", host.id, ActorHostCodec.readStartFailed(frame, host.id).getMessage());
      connection.reply(id, null);
    } else {
      connection.replyError(id, ErrorCode.Protocol, "a warm actor host has no actor yet; it sent message type " + frame.bodyType());
    }
  }

  /** Kills every idle host (the agent stops); completes when they have exited, or after 10 s. */
  Future<Void> close() {
    closed = true;
    if (timer >= 0) {
      state.vertx.cancelTimer(timer);
      timer = -1;
    }
    List<Future<Void>> exits = new ArrayList<>();
    for (Host host : new ArrayList<>(hosts.values())) {
      exits.add(host.exited.future());
      kill(host);
    }
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    long timeout = state.vertx.setTimer(10_000, t -> done.tryComplete());
    Future.join(exits).onComplete(ar -> {
      state.vertx.cancelTimer(timeout);
      done.tryComplete();
    });
    return done.future();
  }

  private void schedule(long delayMs) {
    if (closed || timer >= 0 || size() <= 0) {
      return;
    }
    timer = state.vertx.setTimer(Math.max(1, delayMs), t -> {
      timer = -1;
      refill();
    });
  }

  private void refill() {
    if (closed || state.stopping || hosts.size() >= size() || starting() > 0) {
      return;
    }
    long now = System.nanoTime();
    if (now < pausedUntilNanos) {
      schedule((pausedUntilNanos - now) / 1_000_000);
      return;
    }
    long quietMs = (now - lastSpawnNanos) / 1_000_000;
    boolean coldStarting = state.actors.values().stream().anyMatch(p -> p.state == ActorState.STARTING && p.spec == null);
    if (quietMs < QUIET_MS || coldStarting) {
      schedule(QUIET_MS);
      return;
    }
    long idleRss = hosts.values().stream().mapToLong(h -> Math.max(0, h.rss)).sum();
    long estimate = hosts.values().stream().mapToLong(h -> h.rss).max().orElse(0);
    if (idleRss + estimate > state.options.getWarmPoolMemoryMb() << 20) {
      log.debug("The warm pool holds {} MiB, at its budget", idleRss >> 20);
      return;
    }
    launch();
  }

  private void launch() {
    Host host = new Host("warm-" + (++started), Secrets.next());
    hosts.put(host.id, host);
    List<String> jvmOptions = new ArrayList<>(state.options.getActorJvmOptions());
    if (state.cds != null && state.cds.ready()) {
      // The archive once there is one. The first cold actor trains it: a warm host would hold the training while it
      // waits, perhaps for ever, and one stopped idle would have trained nothing of an actor's.
      jvmOptions.addAll(state.cds.optionsFor(host.id, jvmOptions));
    }
    List<String> command = ActorCommand.command(ActorCommand.javaCommand(state.options), jvmOptions,
      ActorCommand.classpath(state.options));
    // Its Unix socket is the one it rehearses on; its actor's comes with its spec.
    String socket = state.sockets == null ? null : state.sockets.next();
    Map<String, String> env = ActorCommand.warmEnvironment(System.getenv(), host.id, host.secret, socket, ActorCommand.agentSide(state));
    ActorLogs logs = state.logs;
    ProcessTrees trees = state.trees;
    String agentKey = ProcessHandle.current().pid() + "-" + state.port;
    state.vertx.executeBlocking(() -> Map.entry(trees.tree(host.id), logs.warmLog(agentKey, host.id)), false)
      .compose(prepared -> {
        host.tree = prepared.getKey();
        host.logFile = prepared.getValue();
        env.put(host.tree.tagVariable().getKey(), host.tree.tagVariable().getValue());
        return state.launcher.start(state.context, host.tree.wrap(command), env, host.logFile, ActorCommand.tokenLine(state.token));
      })
      .onComplete(ar -> {
        if (ar.failed()) {
          hosts.remove(host.id);
          host.exited.complete();
          failed(host, "could not start: " + ar.cause());
          return;
        }
        host.process = ar.result();
        host.pid = host.process.pid();
        host.process.onExit().whenComplete((p, err) -> state.context.runOnContext(v -> exited(host)));
        if (closed) {
          kill(host);
        }
        // A host that never gets warm would hold the pool's one start for ever: it is killed, and counts as failed.
        state.vertx.setTimer(state.options.getMaxSpawnTimeout(), t -> {
          if (host.bootstrap < 0 && host.process.isAlive()) {
            log.warn("Warm actor host {} (pid {}) is not warm after {} ms; killing it", host.id, host.pid, state.options.getMaxSpawnTimeout());
            kill(host);
          }
        });
      });
  }

  private void exited(Host host) {
    host.exited.complete();
    if (host.proc != null) {
      supervisor.onExit(host.proc);
      return;
    }
    hosts.remove(host.id);
    if (host.connection != null) {
      host.connection.close();
    }
    // What it started (during its rehearsal) goes with it.
    kill(host);
    if (closed || state.stopping) {
      deleteLog(host);
      return;
    }
    int status = host.process.exitValue();
    if (host.bootstrap < 0) {
      failed(host, io.spoke.vertx.internal.ExitStatus.describe(status) + " before it was warm");
    } else {
      log.warn("Warm actor host {} (pid {}) {} while idle; starting another", host.id, host.pid,
        io.spoke.vertx.internal.ExitStatus.describe(status));
      deleteLog(host);
      schedule(QUIET_MS);
    }
  }

  /** SIGKILLs an idle or starting host and its whole tree. */
  private void kill(Host host) {
    if (host.tree != null) {
      ProcessTrees.Tree tree = host.tree;
      state.launcher.killTree(state.context, tree);
    } else if (host.process != null && host.process.isAlive()) {
      state.launcher.kill(state.context, host.process.toHandle());
    }
  }

  private void failed(Host host, String why) {
    failures++;
    Path file = host.logFile;
    state.vertx.executeBlocking(() -> file == null ? "" : ActorLogs.tail(file, ActorSupervisor.LOG_TAIL_LINES), false).onComplete(ar -> {
      String tail = ar.succeeded() && !ar.result().isBlank() ? "; last lines of its log " + file + ":\n" + ar.result() : "";
      deleteLog(host); // its last lines are in the warning
      if (failures >= FAILURES_TO_PAUSE) {
        pausedUntilNanos = System.nanoTime() + PAUSE_MS * 1_000_000;
        log.warn("Warm actor host {} {}; {} in a row failed, so spawns start cold and the pool tries again in {} s{}", host.id, why,
          failures, PAUSE_MS / 1000, tail);
      } else {
        log.warn("Warm actor host {} {}{}", host.id, why, tail);
      }
      schedule(QUIET_MS);
    });
  }

  private void deleteLog(Host host) {
    Path file = host.logFile;
    if (file != null) {
      state.vertx.executeBlocking(() -> Files.deleteIfExists(file), false);
    }
  }
}
