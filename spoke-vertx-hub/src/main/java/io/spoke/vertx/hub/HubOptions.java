// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.internal.OptionsJson;
import io.spoke.vertx.protocol.ProtocolVersion;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Options of a {@link HubVerticle}; a verticle reads them from its config ({@code new HubOptions(config())}),
 * and {@code ./spoke hub --port 8888} maps onto the same keys.
 */
public class HubOptions {

  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = SpokeClientOptions.DEFAULT_HUB_PORT;
  public static final long DEFAULT_HEARTBEAT_INTERVAL = 1_000;
  public static final long DEFAULT_NODE_TIMEOUT = 5_000;
  public static final long DEFAULT_AGENT_TIMEOUT = 30_000;
  public static final int DEFAULT_MAX_FRAME_SIZE = ProtocolVersion.DEFAULT_MAX_FRAME_SIZE;
  public static final long DEFAULT_CLIENT_GRACE_PERIOD = 10_000;
  /** The status page, {@code /metrics}, {@code /health} and {@code /ready}; the next free port up to 20 above when taken. */
  public static final int DEFAULT_HTTP_PORT = 8271;

  private static final List<String> KEYS = Stream.concat(Stream.of("host", "port", "heartbeatInterval", "nodeTimeout", "agentTimeout",
    "maxFrameSize", "clientGracePeriod", "stateDir", "httpPort"), SecurityOptions.KEYS.stream()).collect(Collectors.toList());

  private String host = DEFAULT_HOST;
  private int port = DEFAULT_PORT;
  private long heartbeatInterval = DEFAULT_HEARTBEAT_INTERVAL;
  private long nodeTimeout = DEFAULT_NODE_TIMEOUT;
  private long agentTimeout = DEFAULT_AGENT_TIMEOUT;
  private int maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  private long clientGracePeriod = DEFAULT_CLIENT_GRACE_PERIOD;
  private SecurityOptions security = new SecurityOptions();
  private String stateDir;
  private int httpPort = DEFAULT_HTTP_PORT;

  public HubOptions() {
  }

  public HubOptions(HubOptions other) {
    this.host = other.host;
    this.port = other.port;
    this.heartbeatInterval = other.heartbeatInterval;
    this.nodeTimeout = other.nodeTimeout;
    this.agentTimeout = other.agentTimeout;
    this.maxFrameSize = other.maxFrameSize;
    this.clientGracePeriod = other.clientGracePeriod;
    this.security = new SecurityOptions(other.security);
    this.stateDir = other.stateDir;
    this.httpPort = other.httpPort;
  }

  /**
   * @throws IllegalArgumentException on an unknown key or a value out of range, naming it
   */
  public HubOptions(JsonObject json) {
    OptionsJson o = new OptionsJson(json, "hub", KEYS);
    setHost(o.string("host", DEFAULT_HOST));
    setPort(o.integer("port", DEFAULT_PORT));
    setHeartbeatInterval(o.longValue("heartbeatInterval", DEFAULT_HEARTBEAT_INTERVAL));
    setNodeTimeout(o.longValue("nodeTimeout", DEFAULT_NODE_TIMEOUT));
    setAgentTimeout(o.longValue("agentTimeout", DEFAULT_AGENT_TIMEOUT));
    setMaxFrameSize(o.integer("maxFrameSize", DEFAULT_MAX_FRAME_SIZE));
    setClientGracePeriod(o.longValue("clientGracePeriod", DEFAULT_CLIENT_GRACE_PERIOD));
    setSecurity(o.security());
    setStateDir(o.string("stateDir", null));
    setHttpPort(o.integer("httpPort", DEFAULT_HTTP_PORT));
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
      .put("host", host)
      .put("port", port)
      .put("heartbeatInterval", heartbeatInterval)
      .put("nodeTimeout", nodeTimeout)
      .put("agentTimeout", agentTimeout)
      .put("maxFrameSize", maxFrameSize)
      .put("clientGracePeriod", clientGracePeriod)
      .put("httpPort", httpPort)
      .mergeIn(security.addTo(new JsonObject()));
    if (stateDir != null) {
      json.put("stateDir", stateDir);
    }
    return json;
  }

  public int getHttpPort() {
    return httpPort;
  }

  /**
   * The HTTP port of the status page, {@code /metrics}, {@code /health} and {@code /ready}, on the hub's host and
   * behind its token and TLS: {@link #DEFAULT_HTTP_PORT} by default (or the next free port up to 20 above it),
   * 0 for any free port, -1 for none. A port set here that is taken fails the hub's start.
   */
  public HubOptions setHttpPort(int httpPort) {
    if (httpPort < -1 || httpPort > 65535) {
      throw new IllegalArgumentException("httpPort must be -1 (none), 0 (any) or a port, not " + httpPort);
    }
    this.httpPort = httpPort;
    return this;
  }

  public String getHost() {
    return host;
  }

  /**
   * Address to listen on: loopback by default; {@code 0.0.0.0} for agents on other machines, which needs a
   * cluster token (or {@link SecurityOptions#setInsecure}).
   */
  public HubOptions setHost(String host) {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("host must not be empty");
    }
    this.host = host;
    return this;
  }

  public int getPort() {
    return port;
  }

  /** Port to listen on; 0 picks a free one ({@link HubVerticle#actualPort()}). */
  public HubOptions setPort(int port) {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be in 0..65535, got " + port);
    }
    this.port = port;
    return this;
  }

  public long getHeartbeatInterval() {
    return heartbeatInterval;
  }

  /** Milliseconds between an agent's heartbeats (agents are told at registration). */
  public HubOptions setHeartbeatInterval(long heartbeatInterval) {
    if (heartbeatInterval < 10) {
      throw new IllegalArgumentException("heartbeatInterval must be at least 10 ms, got " + heartbeatInterval);
    }
    this.heartbeatInterval = heartbeatInterval;
    return this;
  }

  public long getNodeTimeout() {
    return nodeTimeout;
  }

  /**
   * Milliseconds without a heartbeat after which a node is dead: its actors are reported dead and its
   * resources forgotten.
   */
  public HubOptions setNodeTimeout(long nodeTimeout) {
    if (nodeTimeout <= 0) {
      throw new IllegalArgumentException("nodeTimeout must be positive, got " + nodeTimeout);
    }
    this.nodeTimeout = nodeTimeout;
    return this;
  }

  public long getAgentTimeout() {
    return agentTimeout;
  }

  /** Milliseconds an agent may take to answer a request, on top of the request's own time (a spawn's timeout). */
  public HubOptions setAgentTimeout(long agentTimeout) {
    if (agentTimeout <= 0) {
      throw new IllegalArgumentException("agentTimeout must be positive, got " + agentTimeout);
    }
    this.agentTimeout = agentTimeout;
    return this;
  }

  public long getClientGracePeriod() {
    return clientGracePeriod;
  }

  /**
   * Milliseconds a client may stay disconnected and still keep its tickets (when it reconnects with its
   * session); after that the hub releases them and stops their actors, except detached tickets.
   */
  public HubOptions setClientGracePeriod(long clientGracePeriod) {
    if (clientGracePeriod < 0) {
      throw new IllegalArgumentException("clientGracePeriod must not be negative, got " + clientGracePeriod);
    }
    this.clientGracePeriod = clientGracePeriod;
    return this;
  }

  public int getMaxFrameSize() {
    return maxFrameSize;
  }

  /** Largest frame the hub accepts, in bytes. */
  public HubOptions setMaxFrameSize(int maxFrameSize) {
    if (maxFrameSize < ProtocolVersion.MIN_MAX_FRAME_SIZE) {
      throw new IllegalArgumentException("maxFrameSize must be at least " + ProtocolVersion.MIN_MAX_FRAME_SIZE + ", got " + maxFrameSize);
    }
    this.maxFrameSize = maxFrameSize;
    return this;
  }

  public SecurityOptions getSecurity() {
    return security;
  }

  /** The cluster token and TLS ({@link SecurityOptions}); their keys sit beside the others in JSON and on the command line. */
  public HubOptions setSecurity(SecurityOptions security) {
    this.security = java.util.Objects.requireNonNull(security, "security");
    return this;
  }

  public String getStateDir() {
    return stateDir;
  }

  /**
   * Directory where the hub keeps its ticket journal ({@code tickets.journal}), so that a restarted hub keeps every
   * gang's reservation and adopts its running actors; {@code null} (the default) keeps tickets in memory only.
   * Created if missing. One hub per directory.
   */
  public HubOptions setStateDir(String stateDir) {
    if (stateDir != null && stateDir.isBlank()) {
      throw new IllegalArgumentException("stateDir must not be blank; leave it out to keep tickets in memory only");
    }
    this.stateDir = stateDir;
    return this;
  }
}
