package io.spoke.vertx.protocol;

import io.spoke.vertx.client.Slot;
import io.spoke.vertx.protocol.fb.ActorSpec;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Ready;
import io.spoke.vertx.protocol.fb.Shutdown;
import io.spoke.vertx.protocol.fb.StartFailed;
import java.util.List;

/**
 * The messages between an agent and an actor host it started: the host's bootstrap, the agent's actor spec, the host's
 * ready or start failure, and the agent's shutdown.
 */
public final class ActorHostCodec {

  private ActorHostCodec() {
  }

  // ---------------------------------------------------------------- written by the actor host, read by the agent

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
