package io.spoke.vertx.protocol;

/**
 * The messages between an agent and an actor host it started: the host's bootstrap, the agent's actor spec, the host's
 * ready or start failure, and the agent's shutdown.
 */
public final class ActorHostCodec {

  private ActorHostCodec() {
  }

  // ---------------------------------------------------------------- written by the actor host, read by the agent

  // ---------------------------------------------------------------- written by the agent, read by the actor host
}
