// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor.impl;

import static io.spoke.vertx.internal.ActorHostLaunch.ENV_ACTOR_ID;
import static io.spoke.vertx.internal.ActorHostLaunch.ENV_AGENT_HOST;
import static io.spoke.vertx.internal.ActorHostLaunch.ENV_AGENT_PID;
import static io.spoke.vertx.internal.ActorHostLaunch.ENV_AGENT_PORT;
import static io.spoke.vertx.internal.ActorHostLaunch.ENV_BIND_HOST;
import static io.spoke.vertx.internal.ActorHostLaunch.ENV_LOCAL_SOCKET;
import static io.spoke.vertx.internal.ActorHostLaunch.ENV_MAX_FRAME_SIZE;
import static io.spoke.vertx.internal.ActorHostLaunch.ENV_SECRET;
import static io.spoke.vertx.internal.ActorHostLaunch.ENV_TLS_CA;
import static io.spoke.vertx.internal.ActorHostLaunch.ENV_TLS_CERT;
import static io.spoke.vertx.internal.ActorHostLaunch.ENV_TLS_KEY;
import static io.spoke.vertx.internal.ActorHostLaunch.ENV_WARM;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.internal.ActorHostLaunch;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * What an actor host process is told by its agent, read from the variables of {@link ActorHostLaunch} and the cluster
 * token on standard input.
 */
public final class ActorHostConfig {

  final String agentHost;
  final int agentPort;
  final long agentPid;
  /** The actor's id; a warm host's name in its pool. */
  final String actorId;
  /** A warm host: its actor comes later, in an ActorSpec the agent sends. */
  final boolean warm;
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
    this.warm = "1".equals(env.get(ENV_WARM));
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

  private static String require(Map<String, String> env, String name) {
    String value = env.get(name);
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(name + " is not set: actor hosts are started by a Spoke agent");
    }
    return value;
  }
}
