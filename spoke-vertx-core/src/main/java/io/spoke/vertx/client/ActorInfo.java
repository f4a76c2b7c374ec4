// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Where an actor runs and how it is doing: what the hub's directory holds for an actor id. Immutable.
 */
public final class ActorInfo {

  private final String id;
  private final String type;
  private final String nodeId;
  private final String host;
  private final int port;
  private final long pid;
  private final String logFile;
  private final ActorState state;
  private final int exitCode;
  private final String reason;
  private final List<Integer> gpuIds;
  private final String ticket;
  private final int rank;
  private final String localSocket;
  private final String hostId;
  private final List<String> command;
  private final List<Integer> ports;
  private final int restarts;
  private final String spawnId;
  private final long exitedAtMs;

  /** An ad-hoc actor (no ticket). */
  public ActorInfo(String id, String type, String nodeId, String host, int port, long pid, String logFile, ActorState state,
                   int exitCode, String reason, List<Integer> gpuIds) {
    this(id, type, nodeId, host, port, pid, logFile, state, exitCode, reason, gpuIds, null, -1);
  }

  public ActorInfo(String id, String type, String nodeId, String host, int port, long pid, String logFile, ActorState state,
                   int exitCode, String reason, List<Integer> gpuIds, String ticket, int rank) {
    this(id, type, nodeId, host, port, pid, logFile, state, exitCode, reason, gpuIds, ticket, rank, null, null, List.of(), List.of(), 0,
      null, 0);
  }

  private ActorInfo(String id, String type, String nodeId, String host, int port, long pid, String logFile, ActorState state,
                    int exitCode, String reason, List<Integer> gpuIds, String ticket, int rank, String localSocket, String hostId,
                    List<String> command, List<Integer> ports, int restarts, String spawnId, long exitedAtMs) {
    this.id = Objects.requireNonNull(id, "id");
    this.type = type;
    this.nodeId = nodeId;
    this.host = host;
    this.port = port;
    this.pid = pid;
    this.logFile = logFile;
    this.state = Objects.requireNonNull(state, "state");
    this.exitCode = exitCode;
    this.reason = reason;
    this.gpuIds = List.copyOf(gpuIds);
    this.ticket = ticket;
    this.rank = rank;
    this.localSocket = localSocket;
    this.hostId = hostId;
    this.command = List.copyOf(command);
    this.ports = List.copyOf(ports);
    this.restarts = restarts;
    this.spawnId = spawnId;
    this.exitedAtMs = exitedAtMs;
  }

  /** The actor's id. */
  public String id() {
    return id;
  }

  /** The type name it was spawned as. */
  public String type() {
    return type;
  }

  /** The node (agent) it runs on. */
  public String nodeId() {
    return nodeId;
  }

  /** The address clients connect to for calls. */
  public String host() {
    return host;
  }

  /** The port of its call listener; 0 until it is running. */
  public int port() {
    return port;
  }

  /** Its process id on its node. */
  public long pid() {
    return pid;
  }

  /** Path of its log file (stdout and stderr) on its node. */
  public String logFile() {
    return logFile;
  }

  public ActorState state() {
    return state;
  }

  /** Exit status once {@link ActorState#EXITED} (128 + n: killed by signal n); -1 before. */
  public int exitCode() {
    return exitCode;
  }

  /** Why it exited, for a person; {@code null} while it runs. */
  public String reason() {
    return reason;
  }

  /** Physical ids of the GPUs reserved for it. */
  public List<Integer> gpuIds() {
    return gpuIds;
  }

  /** The ticket of a gang actor, {@code null} for an ad-hoc one. */
  public String ticket() {
    return ticket;
  }

  /** The global rank of a gang actor, -1 for an ad-hoc one. */
  public int rank() {
    return rank;
  }

  /**
   * The Unix domain socket the actor also listens on, for clients on its host; {@code null} when it has none.
   * Clients on the same host ({@link #hostId()}) call through it rather than through loopback TCP.
   */
  public String localSocket() {
    return localSocket;
  }

  /** Its host's identity (Linux's boot id), which says where {@link #localSocket()} can be reached; may be {@code null}. */
  public String hostId() {
    return hostId;
  }

  /** Whether this is a managed process ({@link ProcessSpec}) rather than a Java actor. */
  public boolean isProcess() {
    return !command.isEmpty();
  }

  /** A managed process's command line; empty for a Java actor. */
  public List<String> command() {
    return command;
  }

  /** The ports reserved on its node for a managed process alone ({@code SPOKE_PORT_0}, ...); empty when none. */
  public List<Integer> ports() {
    return ports;
  }

  /** A copy in another state. */
  public ActorInfo withState(ActorState state, int exitCode, String reason) {
    return new ActorInfo(id, type, nodeId, host, port, pid, logFile, state, exitCode, reason, gpuIds, ticket, rank, localSocket, hostId,
      command, ports, restarts, spawnId, exitedAtMs);
  }

  /** A copy with a Unix domain socket on the host {@code hostId}. */
  public ActorInfo withLocalSocket(String localSocket, String hostId) {
    return new ActorInfo(id, type, nodeId, host, port, pid, logFile, state, exitCode, reason, gpuIds, ticket, rank, localSocket, hostId,
      command, ports, restarts, spawnId, exitedAtMs);
  }

  /** How many times its {@link RestartPolicy} started it again. */
  public int restarts() {
    return restarts;
  }

  /** A copy that was restarted {@code restarts} times. */
  public ActorInfo withRestarts(int restarts) {
    return new ActorInfo(id, type, nodeId, host, port, pid, logFile, state, exitCode, reason, gpuIds, ticket, rank, localSocket, hostId,
      command, ports, restarts, spawnId, exitedAtMs);
  }

  /** A copy that is a managed process running {@code command}, with {@code ports} reserved for it. */
  public ActorInfo withProcess(List<String> command, List<Integer> ports) {
    return new ActorInfo(id, type, nodeId, host, port, pid, logFile, state, exitCode, reason, gpuIds, ticket, rank, localSocket, hostId,
      command, ports, restarts, spawnId, exitedAtMs);
  }

  /**
   * The hub's id of the spawn (or rank launch) that made this actor, the same across its restarts in place; null when
   * unknown. An agent and a hub that find each other again (a cut connection, a restarted hub) match instances by it,
   * so that an exit or a late answer is never taken for another spawn of the same id.
   */
  public String spawnId() {
    return spawnId;
  }

  /** A copy made by spawn {@code spawnId}. */
  public ActorInfo withSpawnId(String spawnId) {
    return new ActorInfo(id, type, nodeId, host, port, pid, logFile, state, exitCode, reason, gpuIds, ticket, rank, localSocket, hostId,
      command, ports, restarts, spawnId, exitedAtMs);
  }

  /** When it exited (epoch milliseconds, as its agent saw it), or 0 when it has not or that is not known. */
  public long exitedAtMs() {
    return exitedAtMs;
  }

  /** A copy that exited at {@code exitedAtMs}. */
  public ActorInfo withExitedAt(long exitedAtMs) {
    return new ActorInfo(id, type, nodeId, host, port, pid, logFile, state, exitCode, reason, gpuIds, ticket, rank, localSocket, hostId,
      command, ports, restarts, spawnId, exitedAtMs);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
      .put("id", id)
      .put("type", type)
      .put("node", nodeId)
      .put("host", host)
      .put("port", port)
      .put("pid", pid)
      .put("state", state.name())
      .put("gpus", new JsonArray(gpuIds))
      .put("log", logFile);
    if (ticket != null) {
      json.put("ticket", ticket).put("rank", rank);
    }
    if (localSocket != null) {
      json.put("socket", localSocket);
    }
    if (!command.isEmpty()) {
      json.put("command", new JsonArray(new java.util.ArrayList<>(command)));
    }
    if (!ports.isEmpty()) {
      json.put("ports", new JsonArray(new java.util.ArrayList<>(ports)));
    }
    if (restarts > 0) {
      json.put("restarts", restarts);
    }
    if (state == ActorState.EXITED || state == ActorState.RESTARTING) {
      json.put("exitCode", exitCode).put("reason", reason);
    }
    if (exitedAtMs > 0) {
      json.put("exitedAt", Instant.ofEpochMilli(exitedAtMs).toString());
    }
    return json;
  }

  @Override
  public String toString() {
    return "ActorInfo" + toJson().encode();
  }
}
