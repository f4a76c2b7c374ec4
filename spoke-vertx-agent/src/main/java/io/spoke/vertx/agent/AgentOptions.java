// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent;

import static io.spoke.vertx.internal.OptionsJson.check;
import static io.spoke.vertx.internal.OptionsJson.notBlank;

import io.spoke.vertx.agent.impl.RendezvousPorts;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.internal.net.HubEndpoints;
import io.spoke.vertx.protocol.Names;
import io.spoke.vertx.protocol.ProtocolVersion;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Options of an {@link AgentVerticle}, read from its config; {@code ./spoke agent --hub HOST:PORT --gpus 8} maps onto the same keys. */
public class AgentOptions {

  public static final String DEFAULT_HUB_HOST = SpokeClientOptions.DEFAULT_HUB_HOST;
  public static final int DEFAULT_HUB_PORT = SpokeClientOptions.DEFAULT_HUB_PORT;
  public static final String DEFAULT_HOST = "127.0.0.1";
  public static final int DEFAULT_PORT = 0;
  public static final String DEFAULT_LOG_DIR = "spoke-logs";
  public static final long DEFAULT_STOP_TIMEOUT = 5_000;
  public static final long DEFAULT_MAX_SPAWN_TIMEOUT = 600_000;
  public static final long DEFAULT_RECONNECT_INTERVAL = 1_000;
  public static final int DEFAULT_MAX_FRAME_SIZE = ProtocolVersion.DEFAULT_MAX_FRAME_SIZE;
  /** Where gangs' MASTER_PORTs come from: torch.distributed's default port and up, below the kernel's ephemeral range. */
  public static final String DEFAULT_MASTER_PORT_RANGE = "29500-29999";
  /**
   * Actor JVMs start small and fast: they are many, and most of their work is elsewhere (GPUs, native code). The
   * serial collector, small stacks, and a small initial heap (an idle actor host's resident memory follows its
   * initial heap: 125 MB with the JVM's default on a 24 GiB machine, 67 MB with 16 MB). Netty's
   * allocator events for Java Flight Recorder are off: with them, every actor host starts JFR's event machinery
   * (about 90 classes, and event handlers generated at run time), 3 MB of an idle actor's memory. An actor that is
   * to be profiled with JFR can turn them back on with {@code -Dio.netty.jfr.enabled=true}. Methods are compiled
   * after three times the JVM's usual number of calls, so code that runs only while the actor starts stays
   * interpreted rather than filling the code cache (1 MB; a call's hot path is compiled within its first
   * 15,000 calls). BENCHMARKS.md has the measurements.
   */
  public static final List<String> DEFAULT_ACTOR_JVM_OPTIONS = List.of("-XX:+UseSerialGC", "-Xss512k", "-Xms16m",
    "-Dio.netty.jfr.enabled=false", "-XX:CompileThresholdScaling=3");
  public static final boolean DEFAULT_ACTOR_CDS = true;
  public static final boolean DEFAULT_LOCAL_SOCKETS = true;
  /** Warm actor hosts kept per agent, and the most resident memory they may hold while idle. */
  public static final int DEFAULT_WARM_POOL = 2;
  public static final long DEFAULT_WARM_POOL_MEMORY_MB = 512;


  private String hubHost = DEFAULT_HUB_HOST;
  private int hubPort = DEFAULT_HUB_PORT;
  private List<String> hubAddresses = List.of();
  private String host = DEFAULT_HOST;
  private int port = DEFAULT_PORT;
  private String advertiseHost;
  private String nodeId;
  private int gpus = -1;
  private int cpus = -1;
  private long memoryMb = -1;
  private Map<String, Long> resources = new LinkedHashMap<>();
  private String logDir = DEFAULT_LOG_DIR;
  private String javaCommand;
  private String actorClasspath;
  private List<String> actorJvmOptions = new ArrayList<>(DEFAULT_ACTOR_JVM_OPTIONS);
  private boolean actorCds = DEFAULT_ACTOR_CDS;
  private boolean localSockets = DEFAULT_LOCAL_SOCKETS;
  private long stopTimeout = DEFAULT_STOP_TIMEOUT;
  private long maxSpawnTimeout = DEFAULT_MAX_SPAWN_TIMEOUT;
  private long reconnectInterval = DEFAULT_RECONNECT_INTERVAL;
  private int maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  private String masterPortRange = DEFAULT_MASTER_PORT_RANGE;
  private SecurityOptions security = new SecurityOptions();
  private int httpPort = -1;
  private int warmPool = DEFAULT_WARM_POOL;
  private long warmPoolMemoryMb = DEFAULT_WARM_POOL_MEMORY_MB;

  public AgentOptions() {
  }

  public AgentOptions(AgentOptions other) {
    this.hubHost = other.hubHost;
    this.hubPort = other.hubPort;
    this.hubAddresses = other.hubAddresses;
    this.host = other.host;
    this.port = other.port;
    this.advertiseHost = other.advertiseHost;
    this.nodeId = other.nodeId;
    this.gpus = other.gpus;
    this.cpus = other.cpus;
    this.memoryMb = other.memoryMb;
    this.resources = new LinkedHashMap<>(other.resources);
    this.logDir = other.logDir;
    this.javaCommand = other.javaCommand;
    this.actorClasspath = other.actorClasspath;
    this.actorJvmOptions = new ArrayList<>(other.actorJvmOptions);
    this.actorCds = other.actorCds;
    this.localSockets = other.localSockets;
    this.stopTimeout = other.stopTimeout;
    this.maxSpawnTimeout = other.maxSpawnTimeout;
    this.reconnectInterval = other.reconnectInterval;
    this.maxFrameSize = other.maxFrameSize;
    this.masterPortRange = other.masterPortRange;
    this.security = new SecurityOptions(other.security);
    this.httpPort = other.httpPort;
    this.warmPool = other.warmPool;
    this.warmPoolMemoryMb = other.warmPoolMemoryMb;
  }

  /** @throws IllegalArgumentException on an unknown key or a value out of range, naming it */
  public AgentOptions(JsonObject json) {
    io.spoke.vertx.agent.impl.AgentOptionsJson.read(this, json);
  }


  public JsonObject toJson() {
    return io.spoke.vertx.agent.impl.AgentOptionsJson.write(this);
  }


  public String getHubHost() {
    return hubHost;
  }

  /** Address of the hub to register with. */
  public AgentOptions setHubHost(String hubHost) {
    this.hubHost = notBlank("hubHost", hubHost);
    return this;
  }

  public int getHubPort() {
    return hubPort;
  }

  public AgentOptions setHubPort(int hubPort) {
    check(!(hubPort < 1 || hubPort > 65535), "hubPort must be in 1..65535, got " + hubPort);
    this.hubPort = hubPort;
    return this;
  }

  public List<String> getHubAddresses() {
    return hubAddresses;
  }

  /** The hubs of a highly available control plane ({@code host:port} each), in place of hubHost and hubPort: see the client's. */
  public AgentOptions setHubAddresses(List<String> hubAddresses) {
    hubAddresses.forEach(HubEndpoints::parse);
    this.hubAddresses = List.copyOf(hubAddresses);
    return this;
  }

  public String getHost() {
    return host;
  }

  /** Address the agent listens on for its actor processes (which run on the same machine): loopback by default. */
  public AgentOptions setHost(String host) {
    this.host = notBlank("host", host);
    return this;
  }

  public int getPort() {
    return port;
  }

  /** Port the agent listens on; 0 (default) picks a free one. */
  public AgentOptions setPort(int port) {
    check(!(port < 0 || port > 65535), "port must be in 0..65535, got " + port);
    this.port = port;
    return this;
  }

  public String getAdvertiseHost() {
    return advertiseHost;
  }

  /**
   * The address clients use to reach this node's actors. {@code null} (default): the local address of the
   * agent's connection to the hub, which is how this machine is seen by the hub's network.
   */
  public AgentOptions setAdvertiseHost(String advertiseHost) {
    this.advertiseHost = advertiseHost;
    return this;
  }

  public String getNodeId() {
    return nodeId;
  }

  /** The node's id in the cluster; {@code null} (default): its advertised address and port. */
  public AgentOptions setNodeId(String nodeId) {
    if (nodeId != null) {
      String error = Names.checkId("nodeId", nodeId);
      if (error != null) {
        throw new IllegalArgumentException(error);
      }
    }
    this.nodeId = nodeId;
    return this;
  }

  public int getGpus() {
    return gpus;
  }

  /** Simulated GPUs (for machines without any); -1 (default) asks {@code nvidia-smi}. */
  public AgentOptions setGpus(int gpus) {
    check(!(gpus < -1 || gpus > 4096), "gpus must be -1 (detect) or 0..4096, got " + gpus);
    this.gpus = gpus;
    return this;
  }

  public int getCpus() {
    return cpus;
  }

  /** CPUs offered to actors; -1 (default): the machine's. */
  public AgentOptions setCpus(int cpus) {
    check(!(cpus < -1), "cpus must be -1 (detect) or more, got " + cpus);
    this.cpus = cpus;
    return this;
  }

  public long getMemoryMb() {
    return memoryMb;
  }

  /** Memory offered to actors, in MiB; -1 (default): the machine's. */
  public AgentOptions setMemoryMb(long memoryMb) {
    check(!(memoryMb < -1), "memoryMb must be -1 (detect) or more, got " + memoryMb);
    this.memoryMb = memoryMb;
    return this;
  }

  public Map<String, Long> getResources() {
    return resources;
  }

  /**
   * Named custom resources this node offers (e.g. {@code rdma_nic: 2}), which gang requests can ask for;
   * on the command line {@code --resources rdma_nic=2,nvme=1}.
   */
  public AgentOptions setResources(Map<String, Long> resources) {
    for (Map.Entry<String, Long> e : resources.entrySet()) {
      String error = Names.checkId("resource name", e.getKey());
      if (error != null) {
        throw new IllegalArgumentException("resources: " + error);
      }
      if (e.getValue() == null || e.getValue() < 0) {
        throw new IllegalArgumentException("resources: '" + e.getKey() + "' must not be negative, got " + e.getValue());
      }
    }
    this.resources = new LinkedHashMap<>(resources);
    return this;
  }

  public String getMasterPortRange() {
    return masterPortRange;
  }

  /** Ports handed out as MASTER_PORT to gangs whose rank 0 runs here, as {@code FIRST-LAST}. */
  public AgentOptions setMasterPortRange(String masterPortRange) {
    RendezvousPorts.parse(masterPortRange);
    this.masterPortRange = masterPortRange;
    return this;
  }

  public String getLogDir() {
    return logDir;
  }

  /** Directory of actor logs: {@code <logDir>/<ticket or adhoc>/<actorId>_<timestamp>.log}. */
  public AgentOptions setLogDir(String logDir) {
    this.logDir = notBlank("logDir", logDir);
    return this;
  }

  public String getJavaCommand() {
    return javaCommand;
  }

  /** The {@code java} executable for actor processes; {@code null} (default): the agent's own. */
  public AgentOptions setJavaCommand(String javaCommand) {
    this.javaCommand = javaCommand;
    return this;
  }

  public String getActorClasspath() {
    return actorClasspath;
  }

  /** Class path of actor processes (where the actor classes are); {@code null} (default): the agent's own. */
  public AgentOptions setActorClasspath(String actorClasspath) {
    this.actorClasspath = actorClasspath;
    return this;
  }

  public List<String> getActorJvmOptions() {
    return actorJvmOptions;
  }

  /** JVM options of every actor process, before those of the spawn request. */
  public AgentOptions setActorJvmOptions(List<String> actorJvmOptions) {
    for (String option : actorJvmOptions) {
      if (option == null || !option.startsWith("-")) {
        throw new IllegalArgumentException("actorJvmOptions: '" + option + "' is not a JVM option (they start with '-')");
      }
    }
    this.actorJvmOptions = new ArrayList<>(actorJvmOptions);
    return this;
  }

  public boolean isActorCds() {
    return actorCds;
  }

  /**
   * Class-data sharing for actor hosts (default on): the first actor host writes an AppCDS archive of its classes
   * to {@code <logDir>/.spoke-cds} at exit, and later ones start from it, in about half the time. Needs a class
   * path of jar files; ignored for a spawn whose JVM options choose CDS settings of their own.
   */
  public AgentOptions setActorCds(boolean actorCds) {
    this.actorCds = actorCds;
    return this;
  }

  public boolean isLocalSockets() {
    return localSockets;
  }

  /**
   * Unix domain sockets for actors (default on): each actor also listens on a socket in a directory of the agent's
   * own (mode 700, under {@code java.io.tmpdir}), and clients on the same host call it there rather than over
   * loopback TCP. Not with TLS, where every call stays on TLS.
   */
  public AgentOptions setLocalSockets(boolean localSockets) {
    this.localSockets = localSockets;
    return this;
  }

  public long getStopTimeout() {
    return stopTimeout;
  }

  /** Milliseconds an actor has to stop gracefully before its process group is killed. */
  public AgentOptions setStopTimeout(long stopTimeout) {
    check(!(stopTimeout < 0), "stopTimeout must not be negative, got " + stopTimeout);
    this.stopTimeout = stopTimeout;
    return this;
  }

  public long getMaxSpawnTimeout() {
    return maxSpawnTimeout;
  }

  /** Upper bound on a spawn's timeout, whatever the request asks. */
  public AgentOptions setMaxSpawnTimeout(long maxSpawnTimeout) {
    check(!(maxSpawnTimeout <= 0), "maxSpawnTimeout must be positive, got " + maxSpawnTimeout);
    this.maxSpawnTimeout = maxSpawnTimeout;
    return this;
  }

  public long getReconnectInterval() {
    return reconnectInterval;
  }

  /** First delay before reconnecting to a lost hub; doubles up to 10 s. */
  public AgentOptions setReconnectInterval(long reconnectInterval) {
    check(!(reconnectInterval <= 0), "reconnectInterval must be positive, got " + reconnectInterval);
    this.reconnectInterval = reconnectInterval;
    return this;
  }

  public int getMaxFrameSize() {
    return maxFrameSize;
  }

  /** Largest frame the agent and its actors accept, in bytes. */
  public AgentOptions setMaxFrameSize(int maxFrameSize) {
    check(!(maxFrameSize < ProtocolVersion.MIN_MAX_FRAME_SIZE), "maxFrameSize must be at least " + ProtocolVersion.MIN_MAX_FRAME_SIZE
      + ", got " + maxFrameSize);
    this.maxFrameSize = maxFrameSize;
    return this;
  }

  public int getHttpPort() {
    return httpPort;
  }

  /** The port of the agent's /metrics, /health and /ready (behind its token and TLS): -1 (none) by default, 0 for any. */
  public AgentOptions setHttpPort(int httpPort) {
    check(!(httpPort < -1 || httpPort > 65535), "httpPort must be -1 (none), 0 (any) or a port, not " + httpPort);
    this.httpPort = httpPort;
    return this;
  }

  public int getWarmPool() {
    return warmPool;
  }

  /**
   * Actor hosts kept started ahead of their actors (0 turns the pool off): a spawn with no JVM options and no
   * environment of its own takes one, in milliseconds rather than a JVM's start. README's "Warm actor hosts" says
   * what a warm actor sees.
   */
  public AgentOptions setWarmPool(int warmPool) {
    check(warmPool >= 0 && warmPool <= 64, "warmPool must be 0 (none) to 64, not " + warmPool);
    this.warmPool = warmPool;
    return this;
  }

  public long getWarmPoolMemoryMb() {
    return warmPoolMemoryMb;
  }

  /** The most resident memory the idle warm hosts may hold together; the pool stops refilling at it. */
  public AgentOptions setWarmPoolMemoryMb(long warmPoolMemoryMb) {
    check(warmPoolMemoryMb > 0, "warmPoolMemoryMb must be positive, not " + warmPoolMemoryMb);
    this.warmPoolMemoryMb = warmPoolMemoryMb;
    return this;
  }

  public SecurityOptions getSecurity() {
    return security;
  }

  /**
   * The cluster token and TLS ({@link SecurityOptions}), for the connection to the hub and the actors' call
   * listeners, to which the agent hands them on; their keys sit beside the others in JSON and on the command line.
   */
  public AgentOptions setSecurity(SecurityOptions security) {
    this.security = java.util.Objects.requireNonNull(security, "security");
    return this;
  }
}
