package io.spoke.vertx.actor.impl;

import io.spoke.vertx.SecurityOptions;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * What an actor host process is told by its agent: through environment variables, and the cluster token as
 * the first line of its standard input (so that it is in no environment its own children inherit, and in no
 * process listing); everything else (type, arguments, GPUs) it asks the agent for over the connection,
 * authenticated by the token and the one-time secret.
 */
public final class ActorHostConfig {

  public static final String ENV_AGENT_HOST = "SPOKE_AGENT_HOST";
  public static final String ENV_AGENT_PORT = "SPOKE_AGENT_PORT";
  public static final String ENV_AGENT_PID = "SPOKE_AGENT_PID";
  public static final String ENV_ACTOR_ID = "SPOKE_ACTOR_ID";
  public static final String ENV_SECRET = "SPOKE_SPAWN_SECRET";
  public static final String ENV_BIND_HOST = "SPOKE_BIND_HOST";
  public static final String ENV_MAX_FRAME_SIZE = "SPOKE_MAX_FRAME_SIZE";
  /** Optional: a path for the actor's Unix domain socket, which clients on the same host use instead of TCP. */
  public static final String ENV_LOCAL_SOCKET = "SPOKE_LOCAL_SOCKET";
  public static final String ENV_TLS_CERT = "SPOKE_TLS_CERT";
  public static final String ENV_TLS_KEY = "SPOKE_TLS_KEY";
  public static final String ENV_TLS_CA = "SPOKE_TLS_CA";

  final String agentHost;
  final int agentPort;
  final long agentPid;
  final String actorId;
  final String secret;
  final String bindHost;
  final int maxFrameSize;
  /** {@code null} for none. */
  final String localSocket;
  final SecurityOptions security;
  final byte[] token;

  /**
   * @param token the first line of standard input: the cluster token, or empty for none
   */
  ActorHostConfig(Map<String, String> env, String token) {
    this.agentHost = require(env, ENV_AGENT_HOST);
    this.agentPort = Integer.parseInt(require(env, ENV_AGENT_PORT));
    this.agentPid = Long.parseLong(require(env, ENV_AGENT_PID));
    this.actorId = require(env, ENV_ACTOR_ID);
    this.secret = require(env, ENV_SECRET);
    this.bindHost = require(env, ENV_BIND_HOST);
    this.maxFrameSize = Integer.parseInt(require(env, ENV_MAX_FRAME_SIZE));
    String socket = env.get(ENV_LOCAL_SOCKET);
    this.localSocket = socket == null || socket.isEmpty() ? null : socket;
    // An actor host's one client connection goes to its agent over loopback, where no host name is verified.
    this.security = new SecurityOptions().setTlsCert(env.get(ENV_TLS_CERT)).setTlsKey(env.get(ENV_TLS_KEY)).setTlsCa(env.get(ENV_TLS_CA))
      .setTlsVerifyHost(false);
    this.token = token == null || token.isBlank() ? null : token.strip().getBytes(StandardCharsets.UTF_8);
  }

  /** Sets the TLS variables of {@code security} in a child's environment {@code env}. */
  public static void putTls(SecurityOptions security, Map<String, String> env) {
    putIfSet(env, ENV_TLS_CERT, security.getTlsCert());
    putIfSet(env, ENV_TLS_KEY, security.getTlsKey());
    putIfSet(env, ENV_TLS_CA, security.getTlsCa());
  }

  private static void putIfSet(Map<String, String> env, String name, String value) {
    if (value != null) {
      env.put(name, java.nio.file.Paths.get(value).toAbsolutePath().toString());
    }
  }

  private static String require(Map<String, String> env, String name) {
    String value = env.get(name);
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(name + " is not set: actor hosts are started by a Spoke agent");
    }
    return value;
  }
}
