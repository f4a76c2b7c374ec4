package io.spoke.vertx.actor.impl;

import java.util.Map;

/**
 * What an actor host process is told by its agent through environment variables; everything else (type,
 * arguments, GPUs) it asks the agent for over the connection, authenticated by the one-time secret.
 */
public final class ActorHostConfig {

  public static final String ENV_AGENT_HOST = "SPOKE_AGENT_HOST";
  public static final String ENV_AGENT_PORT = "SPOKE_AGENT_PORT";
  public static final String ENV_AGENT_PID = "SPOKE_AGENT_PID";
  public static final String ENV_ACTOR_ID = "SPOKE_ACTOR_ID";
  public static final String ENV_SECRET = "SPOKE_SPAWN_SECRET";
  public static final String ENV_BIND_HOST = "SPOKE_BIND_HOST";
  public static final String ENV_MAX_FRAME_SIZE = "SPOKE_MAX_FRAME_SIZE";

  final String agentHost;
  final int agentPort;
  final long agentPid;
  final String actorId;
  final String secret;
  final String bindHost;
  final int maxFrameSize;

  ActorHostConfig(Map<String, String> env) {
    this.agentHost = require(env, ENV_AGENT_HOST);
    this.agentPort = Integer.parseInt(require(env, ENV_AGENT_PORT));
    this.agentPid = Long.parseLong(require(env, ENV_AGENT_PID));
    this.actorId = require(env, ENV_ACTOR_ID);
    this.secret = require(env, ENV_SECRET);
    this.bindHost = require(env, ENV_BIND_HOST);
    this.maxFrameSize = Integer.parseInt(require(env, ENV_MAX_FRAME_SIZE));
  }

  private static String require(Map<String, String> env, String name) {
    String value = env.get(name);
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(name + " is not set: actor hosts are started by a Spoke agent");
    }
    return value;
  }
}
