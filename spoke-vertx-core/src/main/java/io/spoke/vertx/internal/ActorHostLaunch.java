// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.actor.impl.ActorHostMain;
import java.nio.file.Paths;
import java.util.Map;

/**
 * How an agent starts an actor host, the contract between the two: the main class, and the environment variables
 * the host reads at start (the cluster token comes as the first line of its standard input, so that it is in no
 * environment the host's own children inherit, and in no process listing; everything else, type, arguments and
 * GPUs, the host asks its agent for over the connection, authenticated by the token and the one-time secret). The
 * host's side reads them in {@code actor.impl.ActorHostConfig}.
 */
public final class ActorHostLaunch {

  /** The actor host's main class. */
  public static final String MAIN_CLASS = ActorHostMain.class.getName();

  public static final String ENV_AGENT_HOST = "SPOKE_AGENT_HOST";
  public static final String ENV_AGENT_PORT = "SPOKE_AGENT_PORT";
  public static final String ENV_AGENT_PID = "SPOKE_AGENT_PID";
  public static final String ENV_ACTOR_ID = "SPOKE_ACTOR_ID";
  public static final String ENV_SECRET = "SPOKE_SPAWN_SECRET";
  public static final String ENV_BIND_HOST = "SPOKE_BIND_HOST";
  public static final String ENV_MAX_FRAME_SIZE = "SPOKE_MAX_FRAME_SIZE";
  /** Optional: a path for the actor's Unix domain socket, which clients on the same host use instead of TCP. */
  public static final String ENV_LOCAL_SOCKET = "SPOKE_LOCAL_SOCKET";
  /**
   * Optional, "1": a warm host, started before its actor is known. It connects as {@code ENV_ACTOR_ID} (the pool's
   * name for it), loads what an actor's start needs, and waits for the agent's ActorSpec.
   */
  public static final String ENV_WARM = "SPOKE_WARM";
  public static final String ENV_TLS_CERT = "SPOKE_TLS_CERT";
  public static final String ENV_TLS_KEY = "SPOKE_TLS_KEY";
  public static final String ENV_TLS_CA = "SPOKE_TLS_CA";

  private ActorHostLaunch() {
  }

  /** Sets the TLS variables of {@code security} in a child's environment {@code env}, as absolute paths. */
  /** The variables that are the host's own business, not a process its actor starts. */
  public static java.util.List<String> hostOnly() {
    return java.util.List.of(ENV_AGENT_HOST, ENV_AGENT_PORT, ENV_AGENT_PID, ENV_SECRET, ENV_BIND_HOST, ENV_MAX_FRAME_SIZE,
      ENV_LOCAL_SOCKET, ENV_WARM, ENV_TLS_CERT, ENV_TLS_KEY, ENV_TLS_CA);
  }

  public static void putTls(SecurityOptions security, Map<String, String> env) {
    putIfSet(env, ENV_TLS_CERT, security.getTlsCert());
    putIfSet(env, ENV_TLS_KEY, security.getTlsKey());
    putIfSet(env, ENV_TLS_CA, security.getTlsCa());
  }

  private static void putIfSet(Map<String, String> env, String name, String value) {
    if (value != null) {
      env.put(name, Paths.get(value).toAbsolutePath().toString());
    }
  }
}
