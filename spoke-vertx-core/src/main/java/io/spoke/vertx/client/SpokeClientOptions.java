// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.internal.OptionsJson;
import io.spoke.vertx.internal.net.HubEndpoints;
import io.spoke.vertx.protocol.ProtocolVersion;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Options of a {@link SpokeClient}: where the hub is, and how long operations may take.
 */
public class SpokeClientOptions {

  /** The hub's default port (Spoke's). */
  public static final int DEFAULT_HUB_PORT = 8888;
  public static final String DEFAULT_HUB_HOST = "127.0.0.1";
  public static final long DEFAULT_CONNECT_TIMEOUT = 10_000;
  public static final long DEFAULT_REQUEST_TIMEOUT = 30_000;
  public static final long DEFAULT_CALL_TIMEOUT = 30_000;
  public static final long DEFAULT_SPAWN_TIMEOUT = 120_000;
  public static final int DEFAULT_MAX_FRAME_SIZE = ProtocolVersion.DEFAULT_MAX_FRAME_SIZE;
  public static final int DEFAULT_STREAM_WINDOW = 64;
  public static final boolean DEFAULT_LOCAL_SOCKETS = true;

  private static final List<String> KEYS = Stream.concat(Stream.of("hubHost", "hubPort", "hubAddresses", "name", "connectTimeout", "requestTimeout",
    "callTimeout", "spawnTimeout", "maxFrameSize", "streamWindow", "localSockets"), SecurityOptions.KEYS.stream()).collect(Collectors.toList());

  private String hubHost = DEFAULT_HUB_HOST;
  private int hubPort = DEFAULT_HUB_PORT;
  private List<String> hubAddresses = List.of();
  private String name;
  private long connectTimeout = DEFAULT_CONNECT_TIMEOUT;
  private long requestTimeout = DEFAULT_REQUEST_TIMEOUT;
  private long callTimeout = DEFAULT_CALL_TIMEOUT;
  private long spawnTimeout = DEFAULT_SPAWN_TIMEOUT;
  private int maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  private int streamWindow = DEFAULT_STREAM_WINDOW;
  private boolean localSockets = DEFAULT_LOCAL_SOCKETS;
  private SecurityOptions security = new SecurityOptions();

  public SpokeClientOptions() {
  }

  public SpokeClientOptions(SpokeClientOptions other) {
    this.hubHost = other.hubHost;
    this.hubPort = other.hubPort;
    this.hubAddresses = other.hubAddresses;
    this.name = other.name;
    this.connectTimeout = other.connectTimeout;
    this.requestTimeout = other.requestTimeout;
    this.callTimeout = other.callTimeout;
    this.spawnTimeout = other.spawnTimeout;
    this.maxFrameSize = other.maxFrameSize;
    this.streamWindow = other.streamWindow;
    this.localSockets = other.localSockets;
    this.security = new SecurityOptions(other.security);
  }

  /**
   * @throws IllegalArgumentException on an unknown key or a value out of range, naming it
   */
  public SpokeClientOptions(JsonObject json) {
    OptionsJson o = new OptionsJson(json, "client", KEYS);
    setHubHost(o.string("hubHost", DEFAULT_HUB_HOST));
    setHubPort(o.integer("hubPort", DEFAULT_HUB_PORT));
    setHubAddresses(o.strings("hubAddresses", List.of()));
    setName(o.string("name", null));
    setConnectTimeout(o.longValue("connectTimeout", DEFAULT_CONNECT_TIMEOUT));
    setRequestTimeout(o.longValue("requestTimeout", DEFAULT_REQUEST_TIMEOUT));
    setCallTimeout(o.longValue("callTimeout", DEFAULT_CALL_TIMEOUT));
    setSpawnTimeout(o.longValue("spawnTimeout", DEFAULT_SPAWN_TIMEOUT));
    setMaxFrameSize(o.integer("maxFrameSize", DEFAULT_MAX_FRAME_SIZE));
    setStreamWindow(o.integer("streamWindow", DEFAULT_STREAM_WINDOW));
    setLocalSockets(o.bool("localSockets", DEFAULT_LOCAL_SOCKETS));
    setSecurity(o.security());
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
      .put("hubHost", hubHost)
      .put("hubPort", hubPort)
      .put("connectTimeout", connectTimeout)
      .put("requestTimeout", requestTimeout)
      .put("callTimeout", callTimeout)
      .put("spawnTimeout", spawnTimeout)
      .put("maxFrameSize", maxFrameSize)
      .put("streamWindow", streamWindow)
      .put("localSockets", localSockets)
      .mergeIn(security.addTo(new JsonObject()));
    if (name != null) {
      json.put("name", name);
    }
    if (!hubAddresses.isEmpty()) {
      json.put("hubAddresses", new JsonArray(hubAddresses));
    }
    return json;
  }

  public String getHubHost() {
    return hubHost;
  }

  /** Address of the hub. */
  public SpokeClientOptions setHubHost(String hubHost) {
    if (hubHost == null || hubHost.isBlank()) {
      throw new IllegalArgumentException("hubHost must not be empty");
    }
    this.hubHost = hubHost;
    return this;
  }

  public int getHubPort() {
    return hubPort;
  }

  public SpokeClientOptions setHubPort(int hubPort) {
    if (hubPort < 1 || hubPort > 65535) {
      throw new IllegalArgumentException("hubPort must be in 1..65535, got " + hubPort);
    }
    this.hubPort = hubPort;
    return this;
  }

  public List<String> getHubAddresses() {
    return hubAddresses;
  }

  /**
   * The hubs of a highly available control plane ({@code host:port} each), in place of {@link #setHubHost} and
   * {@link #setHubPort}: the client talks to whichever leads, follows a standby's answer to the leader, and goes
   * on to the next hub when one cannot be reached. Empty (the default): the one hub at hubHost:hubPort.
   */
  public SpokeClientOptions setHubAddresses(List<String> hubAddresses) {
    for (String hub : hubAddresses) {
      HubEndpoints.parse(hub);
    }
    this.hubAddresses = List.copyOf(hubAddresses);
    return this;
  }

  public String getName() {
    return name;
  }

  /** Name shown in the hub's logs; {@code null} for one made of the process id. */
  public SpokeClientOptions setName(String name) {
    this.name = name;
    return this;
  }

  public long getConnectTimeout() {
    return connectTimeout;
  }

  /** Milliseconds to connect and complete the handshake with the hub or an actor. */
  public SpokeClientOptions setConnectTimeout(long connectTimeout) {
    this.connectTimeout = positive("connectTimeout", connectTimeout);
    return this;
  }

  public long getRequestTimeout() {
    return requestTimeout;
  }

  /** Milliseconds for a control request to the hub (resolve, stop, status). */
  public SpokeClientOptions setRequestTimeout(long requestTimeout) {
    this.requestTimeout = positive("requestTimeout", requestTimeout);
    return this;
  }

  public long getCallTimeout() {
    return callTimeout;
  }

  /** Milliseconds a method call may take, from send to reply. */
  public SpokeClientOptions setCallTimeout(long callTimeout) {
    this.callTimeout = positive("callTimeout", callTimeout);
    return this;
  }

  public long getSpawnTimeout() {
    return spawnTimeout;
  }

  /** Default milliseconds for a spawn, from request to the actor listening (a JVM start and the actor's start hook). */
  public SpokeClientOptions setSpawnTimeout(long spawnTimeout) {
    this.spawnTimeout = positive("spawnTimeout", spawnTimeout);
    return this;
  }

  public int getMaxFrameSize() {
    return maxFrameSize;
  }

  /** Largest frame this client accepts (a reply, a pushed message), in bytes. */
  public SpokeClientOptions setMaxFrameSize(int maxFrameSize) {
    if (maxFrameSize < ProtocolVersion.MIN_MAX_FRAME_SIZE) {
      throw new IllegalArgumentException("maxFrameSize must be at least " + ProtocolVersion.MIN_MAX_FRAME_SIZE + ", got " + maxFrameSize);
    }
    this.maxFrameSize = maxFrameSize;
    return this;
  }

  public int getStreamWindow() {
    return streamWindow;
  }

  /**
   * Items of a streamed result the actor may send ahead of what the client has consumed: the back-pressure
   * window of {@link SpokeClient#callStream}.
   */
  public SpokeClientOptions setStreamWindow(int streamWindow) {
    if (streamWindow < 1) {
      throw new IllegalArgumentException("streamWindow must be at least 1, got " + streamWindow);
    }
    this.streamWindow = streamWindow;
    return this;
  }

  public SecurityOptions getSecurity() {
    return security;
  }

  /**
   * The cluster token this client proves to the hub and to actors, and TLS ({@link SecurityOptions}); by
   * default the token is read from {@value SecurityOptions#ENV_TOKEN} when set.
   */
  public SpokeClientOptions setSecurity(SecurityOptions security) {
    this.security = java.util.Objects.requireNonNull(security, "security");
    return this;
  }

  public boolean isLocalSockets() {
    return localSockets;
  }

  /**
   * Whether calls to an actor on this client's own host go through the actor's Unix domain socket, when its agent
   * gave it one (default on): the same calls, with the same handshake, a quarter less latency than loopback TCP.
   * If the socket cannot be reached, the client connects over TCP instead. Off: always TCP.
   */
  public SpokeClientOptions setLocalSockets(boolean localSockets) {
    this.localSockets = localSockets;
    return this;
  }

  static long positive(String name, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, got " + value);
    }
    return value;
  }
}
