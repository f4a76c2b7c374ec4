// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import io.spoke.vertx.agent.process.ProcessTrees;
import io.spoke.vertx.agent.process.ReadinessProbe;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Liveness;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.internal.RestartHistory;
import io.spoke.vertx.internal.net.Connection;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** One actor process, from spawn to exit: what it was asked to be, and where it stands. */
final class ActorProcess {

  private final AgentState agent;
  final String actorId;
  final String actorType;
  final List<Integer> gpuIds;
  final Slot slot;
  final Buffer args;
  /** The one-time secret its actor host proves when it connects back. */
  final String secret;
  final long timeout;
  final Promise<ActorInfo> spawned = Promise.promise();
  final List<Promise<ActorInfo>> stopped = new ArrayList<>(1);
  ActorState state = ActorState.STARTING;
  /** How it was started, for the metrics. */
  AgentMetrics.SpawnKind spawnKind = AgentMetrics.SpawnKind.PROCESS;
  Path logFile;
  Process process;
  long pid;
  int port;
  /** The Unix socket this agent asked the actor to open, or {@code null}; and whether it did. */
  String localSocket;
  boolean localSocketOpen;
  /** Its actor host's connection back to the agent, while open. */
  Connection host;
  long spawnTimer = -1;
  long killTimer = -1;
  boolean spawnTimedOut;
  boolean stopRequested;
  boolean killedAfterGrace;
  boolean exited;
  RuntimeException startFailure;
  /** A managed process: what it runs (null for a Java actor), its tree, its readiness probe and its own ports. */
  ProcessSpec spec;
  ProcessTrees.Tree tree;
  ReadinessProbe probe;
  List<Integer> ports = List.of();
  /** Its restarts across instances (null: a death is final), this instance's start (0, 1, ...), and its back-off timer. */
  RestartHistory restarts;
  int attempt;
  long restartTimer = -1;
  /** Its liveness check, and what it monitors while it runs; why the agent killed it (a failed check), or null. */
  Liveness liveness = Liveness.none();
  LivenessMonitor monitor;
  String deathCause;
  /** A managed process's environment, for its checks' ${VAR}s. */
  Map<String, String> env = Map.of();
  /** How the last instance ended, while the next waits for its back-off. */
  int lastStatus = -1;
  /** What a Java actor was started with, for its next instance. */
  Map<String, String> userEnv = Map.of();
  List<String> jvmOptions = List.of();
  /** What its ActorContext.env() holds ({@link ActorCommand#actorEnvironment}). */
  Map<String, String> actorEnv = Map.of();
  /** Its name to the CDS archive's trainer: its id, or the warm host's it took. */
  String cdsKey;
  /** Whether it holds one of the {@link ColdStarts} slots. */
  boolean coldSlot;
  /** The hub's id of the spawn this instance answers (the same across restarts in place), or null. */
  String spawnId;

  ActorProcess(AgentState agent, String actorId, String actorType, List<Integer> gpuIds, Slot slot, Buffer args, String secret,
               long timeout) {
    this.agent = agent;
    this.actorId = actorId;
    this.actorType = actorType;
    this.gpuIds = List.copyOf(gpuIds);
    this.slot = slot;
    this.args = args;
    this.secret = secret;
    this.timeout = timeout;
    this.cdsKey = actorId;
  }

  /** The next instance after a restart's back-off: the same actor (id, GPUs, slot, ports, log, budget), one attempt on. */
  ActorProcess nextInstance(String nextSecret) {
    ActorProcess next = new ActorProcess(agent, actorId, actorType, gpuIds, slot, args, nextSecret, timeout);
    next.userEnv = userEnv;
    next.jvmOptions = jvmOptions;
    next.spec = spec;
    next.ports = ports;
    next.restarts = restarts;
    next.attempt = attempt + 1;
    next.logFile = logFile;
    next.lastStatus = lastStatus;
    next.liveness = liveness;
    next.spawnId = spawnId;
    return next;
  }

  ActorInfo info() {
    ActorInfo info = new ActorInfo(actorId, actorType, agent.nodeId, agent.advertiseHost, port, pid,
      logFile == null ? null : logFile.toString(), state, -1, null, gpuIds, slot == null ? null : slot.ticketId(),
      slot == null ? -1 : slot.globalRank()).withSpawnId(spawnId);
    if (spec != null) {
      info = info.withProcess(spec.getCommand(), ports);
    }
    if (restarts != null && restarts.total() > 0) {
      info = info.withRestarts(restarts.total());
    }
    return localSocketOpen ? info.withLocalSocket(localSocket, agent.inventory.hostId) : info;
  }
}
