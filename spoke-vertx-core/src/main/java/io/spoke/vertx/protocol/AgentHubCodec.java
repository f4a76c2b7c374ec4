package io.spoke.vertx.protocol;

/**
 * The messages between an agent and the hub: registration, heartbeats, actor events, and the hub's commands (spawn,
 * stop, read a log, reserve and release ports).
 */
public final class AgentHubCodec {

  private AgentHubCodec() {
  }

  // ---------------------------------------------------------------- written by the agent, read by the hub

  // ---------------------------------------------------------------- written by the hub, read by the agent
}
