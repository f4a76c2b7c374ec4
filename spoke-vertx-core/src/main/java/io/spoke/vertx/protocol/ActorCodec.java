package io.spoke.vertx.protocol;

/**
 * The control messages between a client and an actor host, besides calls, pushes and stream credits (those have
 * allocation-free encoders in {@link FrameEncoder} and views: {@link CallView}, {@link PushView},
 * {@link StreamCreditView}): subscriptions and the RDMA upgrade.
 */
public final class ActorCodec {

  private ActorCodec() {
  }

  // ---------------------------------------------------------------- written by the client, read by the actor host

  // ---------------------------------------------------------------- written by the actor host, read by the client
}
