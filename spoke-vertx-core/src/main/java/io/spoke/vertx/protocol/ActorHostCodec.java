package io.spoke.vertx.protocol;

import io.spoke.vertx.client.Slot;
import io.spoke.vertx.protocol.fb.ActorSpec;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Bootstrap;
import io.spoke.vertx.protocol.fb.Ping;
import io.spoke.vertx.protocol.fb.Ready;
import io.spoke.vertx.protocol.fb.Shutdown;
import io.spoke.vertx.protocol.fb.StartFailed;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The messages between an agent and an actor host it started: the host's bootstrap, the agent's actor spec, the host's
 * ready or start failure, and the agent's shutdown.
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

  // ---------------------------------------------------------------- written by the agent, read by the actor host

  /** A liveness check: the actor host answers it on the actor's event loop. */
  public static Message ping() {
    return Message.of(Body.Ping, b -> {
      Ping.startPing(b);
      return Ping.endPing(b);
    });
  }

  /**
   * What an ActorSpec says an actor host is to run: the actor's type, id and node, its GPUs, the agent's largest frame,
   * its gang slot ({@code null} outside gangs) and its arguments (the frame's payload, copied).
   */
  public record ActorSpecValue(String actorType, String actorId, String nodeId, List<Integer> gpuIds, long maxFrameSize,
                               Slot slot, Buffer args) {
  }

  /** Reads an ActorSpec, the agent's answer to the host's bootstrap; the value outlives the frame. */
  public static ActorSpecValue readActorSpec(Frame frame) {
    ActorSpec spec = (ActorSpec) frame.header().body(new ActorSpec());
    List<Integer> gpus = new ArrayList<>(spec.gpuIdsLength());
    for (int i = 0; i < spec.gpuIdsLength(); i++) {
      gpus.add(spec.gpuIds(i));
    }
    Slot slot = spec.slot() == null ? null : Messages.readSlot(spec.slot());
    return new ActorSpecValue(spec.actorType(), spec.actorId(), spec.nodeId(), gpus, spec.maxFrameSize(), slot,
      frame.copyPayload());
  }

  /** A shutdown asks nothing more: stop the actor, then exit. */
  private static final Message SHUTDOWN = Message.of(Body.Shutdown, b -> {
    Shutdown.startShutdown(b);
    return Shutdown.endShutdown(b);
  });

  /**
   * The answer to a host's Bootstrap: actor {@code actorId} of {@code actorType} on {@code nodeId} (or null), with
   * {@code gpuIds}, frames up to {@code maxFrameSize}, in gang rank {@code slot} (or null); its constructor's
   * arguments go as the frame's payload.
   */
  public static Message actorSpec(String actorType, String actorId, String nodeId, List<Integer> gpuIds, int maxFrameSize, Slot slot) {
    return Message.of(Body.ActorSpec, b -> {
      int slotOffset = slot == null ? 0 : Messages.writeSlot(b, slot);
      return ActorSpec.createActorSpec(b, b.createString(actorType), b.createString(actorId), Messages.string(b, nodeId),
        Messages.intVector(b, gpuIds), maxFrameSize, slotOffset);
    });
  }

  public static Message shutdown() {
    return SHUTDOWN;
  }
}
