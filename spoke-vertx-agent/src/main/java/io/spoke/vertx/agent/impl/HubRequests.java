// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import io.spoke.vertx.ActorNotFoundException;
import io.spoke.vertx.DuplicateActorException;
import io.spoke.vertx.InvalidRequestException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.Dismissal;
import io.spoke.vertx.agent.process.ActorLogs;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Liveness;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.internal.ExitStatus;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.internal.net.HandlerFailures;
import io.spoke.vertx.protocol.AgentHubCodec;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.Names;
import io.spoke.vertx.protocol.ReadLogRequest;
import io.spoke.vertx.protocol.SpawnView;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.vertx.core.AsyncResult;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The hub's commands to this agent: spawn and stop actors (through the {@link ActorSupervisor}), reserve and release
 * rendezvous ports, read actors' logs. Runs on the agent's event loop; port checks and file reads on workers.
 */
final class HubRequests {

  private static final Logger log = LogManager.getLogger(HubRequests.class);

  private final AgentState state;
  private final Vertx vertx;
  private final AgentOptions options;
  private final ActorSupervisor supervisor;
  private final ProcessRuns processes;
  private final HubLink hub;

  HubRequests(AgentState state, ActorSupervisor supervisor, ProcessRuns processes, HubLink hub) {
    this.state = state;
    this.vertx = state.vertx;
    this.options = state.options;
    this.supervisor = supervisor;
    this.processes = processes;
    this.hub = hub;
  }

  void onMessage(Connection connection, Frame frame) {
    long id = frame.id();
    try {
      switch (frame.bodyType()) {
        case Body.Spawn:
          spawn(connection, id, AgentHubCodec.readSpawn(frame), frame.copyPayload());
          break;
        case Body.Stop:
          stop(connection, id, AgentHubCodec.readStop(frame));
          break;
        case Body.ReservePort:
          reservePort(connection, id, AgentHubCodec.readReservePort(frame));
          break;
        case Body.ReleasePort:
          state.ports.release(AgentHubCodec.readReleasePort(frame));
          break;
        case Body.ReadLog:
          readLog(connection, id, AgentHubCodec.readLogRequest(frame));
          break;
        case Body.Shutdown:
          dismissed(connection, id, AgentHubCodec.readDismissStatus(frame), AgentHubCodec.readDismissReason(frame));
          break;
        default:
          connection.replyError(id, ErrorCode.Protocol, "agents do not handle message type " + frame.bodyType());
      }
    } catch (RuntimeException e) {
      if (HandlerFailures.malformed(e)) {
        // The hub's link stays: the agent refuses that request and goes on.
        log.warn("Malformed request from the hub: {}", e.toString());
        connection.replyError(id, ErrorCode.Protocol, "malformed request: " + e.getMessage());
      } else {
        HandlerFailures.handle(connection, id, "agent " + state.nodeId, "request type " + frame.bodyType() + " from the hub", e, log);
      }
    } finally {
      frame.release();
    }
  }

  /** The hub says the cluster ends: the embedding hears it through {@link AgentServer#dismissed()} and exits. */
  private void dismissed(Connection hubConnection, long requestId, int exitStatus, String reason) {
    log.info("The hub dismissed node {}: {} (exit status {})", state.nodeId, reason.isEmpty() ? "the cluster ends" : reason, exitStatus);
    state.dismissal.tryComplete(new Dismissal(exitStatus, reason));
    hubConnection.reply(requestId, null);
  }

  private void spawn(Connection hubConnection, long requestId, SpawnView s, Buffer args) {
    String actorId = s.actorId();
    String actorType = s.actorType();
    String error = Names.checkType(actorType);
    if (error == null) {
      error = Names.checkId("actor id", actorId);
    }
    if (error != null) {
      hubConnection.replyFailure(requestId, new InvalidRequestException(error));
      return;
    }
    if (state.stopping) {
      hubConnection.replyFailure(requestId, new UnavailableException("node " + state.nodeId + " is stopping; spawn '"
        + actorId + "' elsewhere"));
      return;
    }
    if (state.actors.containsKey(actorId)) {
      hubConnection.replyFailure(requestId, new DuplicateActorException("actor '" + actorId + "' already runs on node " + state.nodeId));
      return;
    }
    List<Integer> gpuIds = s.gpuIds();
    long timeout = Math.min(s.timeoutMs() > 0 ? s.timeoutMs() : options.getMaxSpawnTimeout(), options.getMaxSpawnTimeout());
    Slot slot = s.slot();
    ProcessSpec process;
    RestartPolicy restart;
    Liveness liveness;
    try {
      restart = s.restart();
      liveness = s.liveness();
      process = s.process();
    } catch (IllegalArgumentException e) {
      hubConnection.replyFailure(requestId, new InvalidRequestException(e.getMessage()));
      return;
    }
    String spawnId = s.spawnId();
    if (process != null) {
      process.getEnv().replaceAll((name, value) -> value == null ? "" : value);
      processes.spawn(actorId, actorType, gpuIds, slot, timeout, process, restart, liveness, spawnId)
        .onComplete(ar -> answerSpawn(hubConnection, requestId, actorId, actorType, spawnId, ar));
      return;
    }
    Map<String, String> userEnv = s.env();
    userEnv.replaceAll((name, value) -> value == null ? "" : value);
    List<String> jvmOptions = new ArrayList<>(options.getActorJvmOptions());
    jvmOptions.addAll(s.jvmOptions());
    supervisor.spawn(actorId, actorType, gpuIds, slot, args, timeout, userEnv, jvmOptions, restart, liveness, spawnId)
      .onComplete(ar -> answerSpawn(hubConnection, requestId, actorId, actorType, spawnId, ar));
  }

  /**
   * Answers a spawn on the connection it came on; when that link is gone (the hub restarted, the connection was cut),
   * the outcome goes on the link as it is now: the instance running as an event (and in the next registration), its
   * failure as the instance's exit, kept until the hub acknowledges it.
   */
  private void answerSpawn(Connection hubConnection, long requestId, String actorId, String actorType, String spawnId,
                           AsyncResult<ActorInfo> outcome) {
    if (!hubConnection.isClosed()) {
      if (outcome.succeeded()) {
        hubConnection.reply(requestId, AgentHubCodec.actorInfo(outcome.result()), null);
      } else {
        hubConnection.replyFailure(requestId, outcome.cause());
      }
      return;
    }
    if (outcome.succeeded()) {
      hub.sendEvent(outcome.result());
      return;
    }
    ActorInfo known = state.recentlyExited.get(actorId);
    ActorInfo exit = known != null && spawnId != null && spawnId.equals(known.spawnId()) ? known
      : new ActorInfo(actorId, actorType, state.nodeId, state.advertiseHost, 0, 0, null, ActorState.EXITED, ExitStatus.UNKNOWN, null,
        List.of()).withSpawnId(spawnId);
    hub.sendEvent(exit.withState(ActorState.EXITED, exit.exitCode(), outcome.cause().getMessage()));
  }

  private void stop(Connection hubConnection, long requestId, String actorId) {
    ActorProcess proc = actorId == null ? null : state.actors.get(actorId);
    if (proc == null) {
      ActorInfo exited = actorId == null ? null : state.recentlyExited.get(actorId);
      if (exited != null) {
        hubConnection.reply(requestId, AgentHubCodec.actorInfo(exited), null);
      } else {
        hubConnection.replyFailure(requestId, new ActorNotFoundException("no actor '" + actorId + "' runs on node " + state.nodeId));
      }
      return;
    }
    supervisor.stop(proc).onComplete(ar -> hubConnection.reply(requestId, AgentHubCodec.actorInfo(ar.result()), null));
  }

  private void reservePort(Connection hubConnection, long requestId, String ticket) {
    vertx.executeBlocking(() -> state.ports.reserve(ticket), false).onComplete(ar -> {
      if (ar.failed()) {
        hubConnection.replyFailure(requestId, ar.cause());
        return;
      }
      hubConnection.reply(requestId, AgentHubCodec.portReserved(ar.result()), null);
    });
  }

  private void readLog(Connection hubConnection, long requestId, ReadLogRequest r) {
    String actorId = r.actorId();
    ActorProcess proc = actorId == null ? null : state.actors.get(actorId);
    String path = proc != null ? (proc.logFile == null ? null : proc.logFile.toString())
      : actorId == null || state.recentlyExited.get(actorId) == null ? null : state.recentlyExited.get(actorId).logFile();
    if (path == null) {
      hubConnection.replyFailure(requestId, new ActorNotFoundException("node " + state.nodeId + " has no log of actor '" + actorId + "'"));
      return;
    }
    boolean running = proc != null;
    long offset = Math.max(0, r.offset());
    int max = Math.max(0, Math.min(r.maxBytes(), options.getMaxFrameSize() / 2));
    vertx.executeBlocking(() -> ActorLogs.read(Paths.get(path), offset, max), false).onComplete(ar -> {
      if (ar.failed()) {
        hubConnection.replyFailure(requestId, new ActorNotFoundException("cannot read the log of actor '" + actorId + "' (" + path
          + "): " + ar.cause().getMessage()));
        return;
      }
      ActorLogs.Chunk chunk = ar.result();
      hubConnection.reply(requestId, AgentHubCodec.logChunk(path, offset + chunk.data.length(), chunk.size, running), chunk.data);
    });
  }
}
