// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.internal.OptionsJson;
import io.spoke.vertx.internal.net.HubEndpoints;
import io.spoke.vertx.protocol.ProtocolVersion;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Arrays;
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
  /** Where in etcd a cluster keeps its state and election, unless {@link #setEtcdPrefix} says otherwise. */
  public static final String DEFAULT_ETCD_PREFIX = "/spoke/default";
  public static final long DEFAULT_LEASE_TTL = 10_000;

  private static final List<String> KEYS = Stream.concat(Stream.of("host", "port", "heartbeatInterval", "nodeTimeout", "agentTimeout",
    "maxFrameSize", "clientGracePeriod", "stateDir", "httpPort", "etcd", "etcdPrefix", "leaseTtl", "advertise",
    "etcdUser", "etcdPasswordFile", "etcdCa", "etcdCert", "etcdKey"),
    SecurityOptions.KEYS.stream()).collect(Collectors.toList());

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
  private List<String> etcd = List.of();
  private String etcdPrefix = DEFAULT_ETCD_PREFIX;
  private long leaseTtl = DEFAULT_LEASE_TTL;
  private String advertise;
  private String etcdUser;
  private String etcdPasswordFile;
  private String etcdCa;
  private String etcdCert;
  private String etcdKey;

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
    this.etcd = other.etcd;
    this.etcdPrefix = other.etcdPrefix;
    this.leaseTtl = other.leaseTtl;
    this.advertise = other.advertise;
    this.etcdUser = other.etcdUser;
    this.etcdPasswordFile = other.etcdPasswordFile;
    this.etcdCa = other.etcdCa;
    this.etcdCert = other.etcdCert;
    this.etcdKey = other.etcdKey;
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
    String endpoints = o.string("etcd", null);
    setEtcd(endpoints == null || endpoints.isBlank() ? List.of() : Arrays.asList(endpoints.split(",", -1)));
    setEtcdPrefix(o.string("etcdPrefix", DEFAULT_ETCD_PREFIX));
    setLeaseTtl(o.longValue("leaseTtl", DEFAULT_LEASE_TTL));
    setAdvertise(o.string("advertise", null));
    setEtcdUser(o.string("etcdUser", null));
    setEtcdPasswordFile(o.string("etcdPasswordFile", null));
    setEtcdCa(o.string("etcdCa", null));
    setEtcdCert(o.string("etcdCert", null));
    setEtcdKey(o.string("etcdKey", null));
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
    if (!etcd.isEmpty()) {
      json.put("etcd", String.join(",", etcd));
    }
    if (advertise != null) {
      json.put("advertise", advertise);
    }
    putIfSet(json, "etcdUser", etcdUser);
    putIfSet(json, "etcdPasswordFile", etcdPasswordFile);
    putIfSet(json, "etcdCa", etcdCa);
    putIfSet(json, "etcdCert", etcdCert);
    putIfSet(json, "etcdKey", etcdKey);
    return json.put("etcdPrefix", etcdPrefix).put("leaseTtl", leaseTtl);
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

  public List<String> getEtcd() {
    return etcd;
  }

  /**
   * The etcd cluster that holds the hub's state ({@code http://host:2379} each, or {@code https://}), for a highly
   * available control plane: several hubs given the same endpoints and {@link #setEtcdPrefix prefix} elect one leader,
   * the others stand by and take over when it is gone. Empty (the default): this hub alone, its state in memory or in
   * its {@link #setStateDir state directory}.
   */
  public HubOptions setEtcd(List<String> etcd) {
    List<String> endpoints = new ArrayList<>();
    for (String endpoint : etcd) {
      String url = endpoint.trim();
      URI uri;
      try {
        uri = new URI(url);
      } catch (URISyntaxException e) {
        uri = null;
      }
      if (uri == null || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null || uri.getPort() < 1
        || uri.getPath() != null && !uri.getPath().isEmpty() && !uri.getPath().equals("/")) {
        throw new IllegalArgumentException("etcd takes endpoints as http://HOST:PORT (or https://), comma-separated, not '" + endpoint + "'");
      }
      endpoints.add(url);
    }
    this.etcd = List.copyOf(endpoints);
    return this;
  }

  public String getEtcdPrefix() {
    return etcdPrefix;
  }

  /** The keys of this cluster in etcd: clusters that share an etcd stay apart by prefix. */
  public HubOptions setEtcdPrefix(String etcdPrefix) {
    if (etcdPrefix == null || !etcdPrefix.startsWith("/") || etcdPrefix.endsWith("/") || etcdPrefix.isBlank()) {
      throw new IllegalArgumentException("etcdPrefix must start with '/' and not end with one (e.g. /spoke/prod), not '" + etcdPrefix + "'");
    }
    this.etcdPrefix = etcdPrefix;
    return this;
  }

  public long getLeaseTtl() {
    return leaseTtl;
  }

  /**
   * The leader's etcd lease, in ms (whole seconds, as etcd grants them): a leader that cannot renew it within this
   * time stops leading, and a standby takes over about this long after the leader died. Longer rides out longer etcd
   * interruptions; shorter fails over sooner.
   */
  public HubOptions setLeaseTtl(long leaseTtl) {
    if (leaseTtl < 2_000 || leaseTtl > 3_600_000 || leaseTtl % 1_000 != 0) {
      throw new IllegalArgumentException("leaseTtl must be whole seconds from 2000 to 3600000 ms, not " + leaseTtl);
    }
    this.leaseTtl = leaseTtl;
    return this;
  }

  public String getAdvertise() {
    return advertise;
  }

  /**
   * Where agents and clients reach this hub ({@code host:port}), which standbys tell them when this hub leads; null:
   * its host and port (or this machine's address, where it listens on every interface).
   */
  public HubOptions setAdvertise(String advertise) {
    if (advertise != null) {
      HubEndpoints.parse(advertise);
    }
    this.advertise = advertise;
    return this;
  }

  private static void putIfSet(JsonObject json, String key, String value) {
    if (value != null) {
      json.put(key, value);
    }
  }

  private static String notBlankOrNull(String key, String value) {
    if (value != null && value.isBlank()) {
      throw new IllegalArgumentException(key + " must not be blank; leave it out for none");
    }
    return value;
  }

  public String getEtcdUser() {
    return etcdUser;
  }

  /** The etcd user the hub authenticates as (with {@link #setEtcdPasswordFile}), where etcd has authentication on. */
  public HubOptions setEtcdUser(String etcdUser) {
    this.etcdUser = notBlankOrNull("etcdUser", etcdUser);
    return this;
  }

  public String getEtcdPasswordFile() {
    return etcdPasswordFile;
  }

  /** A file holding the etcd user's password (its first line), so that it is on no command line. */
  public HubOptions setEtcdPasswordFile(String etcdPasswordFile) {
    this.etcdPasswordFile = notBlankOrNull("etcdPasswordFile", etcdPasswordFile);
    return this;
  }

  public String getEtcdCa() {
    return etcdCa;
  }

  /** The CA (PEM) that etcd's certificates are checked against, for {@code https://} endpoints; null: the JVM's. */
  public HubOptions setEtcdCa(String etcdCa) {
    this.etcdCa = notBlankOrNull("etcdCa", etcdCa);
    return this;
  }

  public String getEtcdCert() {
    return etcdCert;
  }

  /** The hub's client certificate (PEM) for an etcd that asks for one ({@code --client-cert-auth}), with {@link #setEtcdKey}. */
  public HubOptions setEtcdCert(String etcdCert) {
    this.etcdCert = notBlankOrNull("etcdCert", etcdCert);
    return this;
  }

  public String getEtcdKey() {
    return etcdKey;
  }

  /** The private key (PKCS#8 PEM) of {@link #setEtcdCert}. */
  public HubOptions setEtcdKey(String etcdKey) {
    this.etcdKey = notBlankOrNull("etcdKey", etcdKey);
    return this;
  }
}
