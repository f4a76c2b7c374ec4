// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import io.spoke.vertx.client.Slot;
import io.spoke.vertx.protocol.fb.ActorSpec;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Bootstrap;
import io.spoke.vertx.protocol.fb.CallStats;
import io.spoke.vertx.protocol.fb.CallStatsRequest;
import io.spoke.vertx.protocol.fb.FbMethodStats;
import io.spoke.vertx.protocol.fb.KeyValue;
import io.spoke.vertx.protocol.fb.Ping;
import io.spoke.vertx.protocol.fb.Ready;
import io.spoke.vertx.protocol.fb.Shutdown;
import io.spoke.vertx.protocol.fb.StartFailed;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The messages between an agent and an actor host it started: the host's bootstrap, the agent's actor spec, the host's
 * ready or start failure, the agent's shutdown, and its questions: liveness pings and call statistics.
 */
public final class ActorHostCodec {

  private ActorHostCodec() {
  }

  // ---------------------------------------------------------------- written by the actor host, read by the agent

  private static final Message BOOTSTRAP = Message.of(Body.Bootstrap, b -> {
    Bootstrap.startBootstrap(b);
    return Bootstrap.endBootstrap(b);
  });

  /** The host's first request to its agent: what am I to run? Answered with an ActorSpec. */
  public static Message bootstrap() {
    return BOOTSTRAP;
  }

  /**
   * The actor is constructed and listens on {@code port} (and on the Unix socket {@code localSocket}, or
   * {@code null}); {@code pid} is the host's process.
   */
  public static Message ready(int port, long pid, String localSocket) {
    return Message.of(Body.Ready, b -> Ready.createReady(b, port, pid, localSocket == null ? 0 : b.createString(localSocket)));
  }

  /** The actor could not be started: why, and the wire code of the failure ({@link ErrorCodes#codeOf}). */
  public static Message startFailed(String message, short code) {
    return Message.of(Body.StartFailed, b -> StartFailed.createStartFailed(b, b.createString(message), code));
  }

  /**
   * Where a ready actor host listens: its TCP port, and the Unix socket it opened (null if none).
   *
   * @param port        the TCP port
   * @param localSocket the Unix socket's path, or null
   */
  public record HostReady(int port, String localSocket) {
  }

  /** What a Ready says. */
  public static HostReady readReady(Frame frame) {
    Ready ready = (Ready) frame.header().body(new Ready());
    return new HostReady(ready.port(), ready.localSocket());
  }

  /** Why actor {@code actorId}'s host could not start it, as the exception its code means ({@link ErrorCodes}). */
  public static RuntimeException readStartFailed(Frame frame, String actorId) {
    StartFailed failed = (StartFailed) frame.header().body(new StartFailed());
    return ErrorCodes.toException(failed.code(), failed.message(), null, actorId);
  }

  /**
   * One method's calls since its actor started.
   *
   * @param method   its id
   * @param name     its name, or null when no service interface registered it
   * @param calls    calls completed
   * @param errors   of those, the ones that failed
   * @param sumNanos their total time
   * @param buckets  calls per latency bucket: one per bound of {@link CallStatsValue#boundsNanos}, then one above
   */
  public record MethodCalls(int method, String name, long calls, long errors, long sumNanos, long[] buckets) {
  }

  /**
   * An actor's calls: per method, calls refused before any method ran (no such method, wrong kind), and the latency
   * buckets' upper bounds in nanoseconds.
   */
  public record CallStatsValue(List<MethodCalls> methods, long refused, long[] boundsNanos) {
  }

  /** The answer to a CallStatsRequest. */
  public static Message callStats(CallStatsValue stats) {
    return Message.of(Body.CallStats, b -> {
      int[] methods = new int[stats.methods().size()];
      for (int i = 0; i < methods.length; i++) {
        MethodCalls m = stats.methods().get(i);
        int name = m.name() == null ? 0 : b.createString(m.name());
        int buckets = FbMethodStats.createBucketsVector(b, m.buckets());
        methods[i] = FbMethodStats.createFbMethodStats(b, m.method(), name, m.calls(), m.errors(), m.sumNanos(), buckets);
      }
      int vector = CallStats.createMethodsVector(b, methods);
      return CallStats.createCallStats(b, vector, stats.refused(), CallStats.createBoundsNanosVector(b, stats.boundsNanos()));
    });
  }

  /** Reads a CallStats; the value outlives the frame. */
  public static CallStatsValue readCallStats(Frame frame) {
    if (frame.bodyType() != Body.CallStats) {
      throw new io.spoke.vertx.ProtocolException("the actor host answered a call statistics request with message type "
        + frame.bodyType());
    }
    CallStats stats = (CallStats) frame.header().body(new CallStats());
    long[] bounds = new long[stats.boundsNanosLength()];
    for (int i = 0; i < bounds.length; i++) {
      bounds[i] = stats.boundsNanos(i);
    }
    List<MethodCalls> methods = new ArrayList<>(stats.methodsLength());
    FbMethodStats m = new FbMethodStats();
    for (int i = 0; i < stats.methodsLength(); i++) {
      stats.methods(m, i);
      if (m.bucketsLength() != bounds.length + 1) {
        throw new io.spoke.vertx.ProtocolException("method " + m.method() + "'s call statistics have " + m.bucketsLength()
          + " buckets for " + bounds.length + " bounds");
      }
      long[] buckets = new long[m.bucketsLength()];
      for (int j = 0; j < buckets.length; j++) {
        buckets[j] = m.buckets(j);
      }
      methods.add(new MethodCalls((int) m.method(), m.name(), m.calls(), m.errors(), m.sumNanos(), buckets));
    }
    return new CallStatsValue(methods, stats.refused(), bounds);
  }

  // ---------------------------------------------------------------- written by the agent, read by the actor host

  /** A liveness check: the actor host answers it on the actor's event loop. */
  public static Message ping() {
    return Message.of(Body.Ping, b -> {
      Ping.startPing(b);
      return Ping.endPing(b);
    });
  }

  private static final Message CALL_STATS_REQUEST = Message.of(Body.CallStatsRequest, b -> {
    CallStatsRequest.startCallStatsRequest(b);
    return CallStatsRequest.endCallStatsRequest(b);
  });

  /** Asks an actor host for its actor's call statistics; answered with CallStats. */
  public static Message callStatsRequest() {
    return CALL_STATS_REQUEST;
  }

  /**
   * What an ActorSpec says an actor host is to run: the actor's type, id and node, its GPUs, the agent's largest frame,
   * its gang slot ({@code null} outside gangs), its arguments (the frame's payload, copied), the Unix socket to open
   * ({@code null}: none) and the environment Spoke gives the actor.
   */
  public record ActorSpecValue(String actorType, String actorId, String nodeId, List<Integer> gpuIds, long maxFrameSize,
                               Slot slot, Buffer args, String localSocket, Map<String, String> env) {
  }

  /** Reads an ActorSpec, the agent's answer to the host's bootstrap; the value outlives the frame. */
  public static ActorSpecValue readActorSpec(Frame frame) {
    ActorSpec spec = (ActorSpec) frame.header().body(new ActorSpec());
    List<Integer> gpus = new ArrayList<>(spec.gpuIdsLength());
    for (int i = 0; i < spec.gpuIdsLength(); i++) {
      gpus.add(spec.gpuIds(i));
    }
    Slot slot = spec.slot() == null ? null : Messages.readSlot(spec.slot());
    Map<String, String> env = new LinkedHashMap<>();
    KeyValue entry = new KeyValue();
    for (int i = 0; i < spec.envLength(); i++) {
      spec.env(entry, i);
      if (entry.key() != null) {
        env.put(entry.key(), entry.value() == null ? "" : entry.value());
      }
    }
    String socket = spec.localSocket();
    return new ActorSpecValue(spec.actorType(), spec.actorId(), spec.nodeId(), gpus, spec.maxFrameSize(), slot, frame.copyPayload(),
      socket == null || socket.isEmpty() ? null : socket, Collections.unmodifiableMap(env));
  }

  /** A shutdown asks nothing more: stop the actor, then exit. */
  private static final Message SHUTDOWN = Message.of(Body.Shutdown, b -> {
    Shutdown.startShutdown(b);
    return Shutdown.endShutdown(b);
  });

  /**
   * The answer to a host's Bootstrap (a warm host's, once a spawn takes it): actor {@code actorId} of
   * {@code actorType} on {@code nodeId} (or null), with {@code gpuIds}, frames up to {@code maxFrameSize}, in gang rank
   * {@code slot} (or null), opening {@code localSocket} (or null), seeing {@code env}; its constructor's arguments go as
   * the frame's payload.
   */
  public static Message actorSpec(String actorType, String actorId, String nodeId, List<Integer> gpuIds, int maxFrameSize, Slot slot,
                                  String localSocket, Map<String, String> env) {
    return Message.of(Body.ActorSpec, b -> {
      int slotOffset = slot == null ? 0 : Messages.writeSlot(b, slot);
      int[] entries = new int[env.size()];
      int i = 0;
      for (Map.Entry<String, String> e : env.entrySet()) {
        entries[i++] = KeyValue.createKeyValue(b, b.createString(e.getKey()), b.createString(e.getValue()));
      }
      return ActorSpec.createActorSpec(b, b.createString(actorType), b.createString(actorId), Messages.string(b, nodeId),
        Messages.intVector(b, gpuIds), maxFrameSize, slotOffset, Messages.string(b, localSocket),
        ActorSpec.createEnvVector(b, entries));
    });
  }

  public static Message shutdown() {
    return SHUTDOWN;
  }
}
