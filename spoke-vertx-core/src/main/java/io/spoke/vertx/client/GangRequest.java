// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import io.spoke.vertx.internal.OptionsJson;
import io.spoke.vertx.protocol.Names;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What {@link SpokeClient#gangAllocate} asks for: {@code nodes x actorsPerNode} ranks, each with the same
 * resources, placed by a {@link PlacementStrategy}, all or nothing.
 * <pre>
 * new GangRequest().setNodes(2).setActorsPerNode(4).setGpus(1).setStrategy(PlacementStrategy.STRICT_PACK)
 * </pre>
 * Every request has a ticket id, chosen here at random unless set, so that a request still waiting for
 * resources can be cancelled with {@code release(request.getTicketId())}.
 */
public class GangRequest {

  public static final PlacementStrategy DEFAULT_STRATEGY = PlacementStrategy.STRICT_PACK;

  private static final List<String> KEYS = List.of("ticketId", "nodes", "actorsPerNode", "gpus", "cpus", "memoryMb",
    "customResources", "strategy", "preferredNode", "timeout", "waitForResources", "detached", "restart");

  private String ticketId = newTicketId();
  private int nodes = 1;
  private int actorsPerNode = 1;
  private int gpus;
  private int cpus;
  private long memoryMb;
  private Map<String, Long> customResources = new LinkedHashMap<>();
  private PlacementStrategy strategy = DEFAULT_STRATEGY;
  private String preferredNode;
  private long timeout;
  private boolean waitForResources;
  private boolean detached;
  private RestartPolicy restart = RestartPolicy.never();

  public GangRequest() {
  }

  public GangRequest(GangRequest other) {
    this.ticketId = other.ticketId;
    this.nodes = other.nodes;
    this.actorsPerNode = other.actorsPerNode;
    this.gpus = other.gpus;
    this.cpus = other.cpus;
    this.memoryMb = other.memoryMb;
    this.customResources = new LinkedHashMap<>(other.customResources);
    this.strategy = other.strategy;
    this.preferredNode = other.preferredNode;
    this.timeout = other.timeout;
    this.waitForResources = other.waitForResources;
    this.detached = other.detached;
    this.restart = other.restart;
  }

  public GangRequest(JsonObject json) {
    OptionsJson o = new OptionsJson(json, "gang request", KEYS);
    if (o.has("ticketId")) {
      setTicketId(o.string("ticketId", null));
    }
    setNodes(o.integer("nodes", 1));
    setActorsPerNode(o.integer("actorsPerNode", 1));
    setGpus(o.integer("gpus", 0));
    setCpus(o.integer("cpus", 0));
    setMemoryMb(o.longValue("memoryMb", 0));
    Map<String, Long> custom = new LinkedHashMap<>();
    if (json.getValue("customResources") instanceof JsonObject) {
      for (Map.Entry<String, Object> e : json.getJsonObject("customResources")) {
        if (!(e.getValue() instanceof Number)) {
          throw new IllegalArgumentException("customResources: '" + e.getKey() + "' must be a number");
        }
        custom.put(e.getKey(), ((Number) e.getValue()).longValue());
      }
    } else if (json.getValue("customResources") != null) {
      throw new IllegalArgumentException("customResources must be an object mapping names to amounts");
    }
    setCustomResources(custom);
    String s = o.string("strategy", DEFAULT_STRATEGY.name());
    try {
      setStrategy(PlacementStrategy.valueOf(s));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown strategy '" + s + "'; strategies are " + java.util.Arrays.toString(PlacementStrategy.values()));
    }
    setPreferredNode(o.string("preferredNode", null));
    setTimeout(o.longValue("timeout", 0));
    setWaitForResources(o.bool("waitForResources", false));
    setDetached(o.bool("detached", false));
    JsonObject restartJson = o.object("restart");
    setRestart(restartJson == null ? RestartPolicy.never() : RestartPolicy.fromJson(restartJson));
  }

  public JsonObject toJson() {
    JsonObject custom = new JsonObject();
    customResources.forEach(custom::put);
    JsonObject json = new JsonObject()
      .put("ticketId", ticketId)
      .put("nodes", nodes)
      .put("actorsPerNode", actorsPerNode)
      .put("gpus", gpus)
      .put("cpus", cpus)
      .put("memoryMb", memoryMb)
      .put("customResources", custom)
      .put("strategy", strategy.name())
      .put("timeout", timeout)
      .put("waitForResources", waitForResources)
      .put("detached", detached)
      .put("restart", restart.toJson());
    if (preferredNode != null) {
      json.put("preferredNode", preferredNode);
    }
    return json;
  }

  static String newTicketId() {
    return "t-" + Long.toHexString(ThreadLocalRandom.current().nextLong() | Long.MIN_VALUE).substring(0, 12);
  }

  /** Total ranks: {@code nodes x actorsPerNode}. */
  public int worldSize() {
    return nodes * actorsPerNode;
  }

  public String getTicketId() {
    return ticketId;
  }

  /** The ticket's id; a random one by default. Ids name log directories: letters, digits, '.', '_', '-'. */
  public GangRequest setTicketId(String ticketId) {
    String error = Names.checkId("ticketId", ticketId);
    if (error != null) {
      throw new IllegalArgumentException(error);
    }
    this.ticketId = ticketId;
    return this;
  }

  public int getNodes() {
    return nodes;
  }

  /** Number of nodes (groups of ranks); at least 1. */
  public GangRequest setNodes(int nodes) {
    if (nodes < 1) {
      throw new IllegalArgumentException("nodes must be at least 1, got " + nodes);
    }
    this.nodes = nodes;
    return this;
  }

  public int getActorsPerNode() {
    return actorsPerNode;
  }

  /** Ranks per node; at least 1. */
  public GangRequest setActorsPerNode(int actorsPerNode) {
    if (actorsPerNode < 1) {
      throw new IllegalArgumentException("actorsPerNode must be at least 1, got " + actorsPerNode);
    }
    this.actorsPerNode = actorsPerNode;
    return this;
  }

  public int getGpus() {
    return gpus;
  }

  /** GPUs per rank. */
  public GangRequest setGpus(int gpus) {
    if (gpus < 0) {
      throw new IllegalArgumentException("gpus must not be negative, got " + gpus);
    }
    this.gpus = gpus;
    return this;
  }

  public int getCpus() {
    return cpus;
  }

  /** CPUs per rank. */
  public GangRequest setCpus(int cpus) {
    if (cpus < 0) {
      throw new IllegalArgumentException("cpus must not be negative, got " + cpus);
    }
    this.cpus = cpus;
    return this;
  }

  public long getMemoryMb() {
    return memoryMb;
  }

  /** Memory per rank, in MiB. */
  public GangRequest setMemoryMb(long memoryMb) {
    if (memoryMb < 0) {
      throw new IllegalArgumentException("memoryMb must not be negative, got " + memoryMb);
    }
    this.memoryMb = memoryMb;
    return this;
  }

  public Map<String, Long> getCustomResources() {
    return customResources;
  }

  /** Amounts of named resources per rank (e.g. {@code rdma_nic: 1}), as agents declare them with {@code --resources}. */
  public GangRequest setCustomResources(Map<String, Long> customResources) {
    for (Map.Entry<String, Long> e : customResources.entrySet()) {
      String error = Names.checkId("custom resource name", e.getKey());
      if (error != null) {
        throw new IllegalArgumentException(error);
      }
      if (e.getValue() == null || e.getValue() < 0) {
        throw new IllegalArgumentException("custom resource '" + e.getKey() + "' must not be negative, got " + e.getValue());
      }
    }
    this.customResources = new LinkedHashMap<>(customResources);
    return this;
  }

  public GangRequest putCustomResource(String name, long amount) {
    Map<String, Long> copy = new LinkedHashMap<>(customResources);
    copy.put(name, amount);
    return setCustomResources(copy);
  }

  public PlacementStrategy getStrategy() {
    return strategy;
  }

  public GangRequest setStrategy(PlacementStrategy strategy) {
    if (strategy == null) {
      throw new IllegalArgumentException("strategy must not be null");
    }
    this.strategy = strategy;
    return this;
  }

  public String getPreferredNode() {
    return preferredNode;
  }

  /** The node for rank 0 (the master), used when it fits; {@code null} lets the scheduler choose. */
  public GangRequest setPreferredNode(String preferredNode) {
    if (preferredNode != null) {
      String error = Names.checkId("preferredNode", preferredNode);
      if (error != null) {
        throw new IllegalArgumentException(error);
      }
    }
    this.preferredNode = preferredNode;
    return this;
  }

  public long getTimeout() {
    return timeout;
  }

  /**
   * Milliseconds the request may take; with {@link #setWaitForResources}, how long it may wait in the queue.
   * 0 (default): the client's {@code requestTimeout}.
   */
  public GangRequest setTimeout(long timeout) {
    if (timeout < 0) {
      throw new IllegalArgumentException("timeout must not be negative, got " + timeout);
    }
    this.timeout = timeout;
    return this;
  }

  public boolean isWaitForResources() {
    return waitForResources;
  }

  /**
   * When nothing fits now, wait in the hub's FIFO queue (until the timeout) instead of failing at once. A
   * request that can never fit the cluster fails at once anyway, with {@link io.spoke.vertx.InfeasibleException}.
   */
  public GangRequest setWaitForResources(boolean waitForResources) {
    this.waitForResources = waitForResources;
    return this;
  }

  public boolean isDetached() {
    return detached;
  }

  /** Keep the ticket when the client closes or dies; it must then be released explicitly. */
  public GangRequest setDetached(boolean detached) {
    this.detached = detached;
    return this;
  }

  public RestartPolicy getRestart() {
    return restart;
  }

  /**
   * Gang restart (default {@link RestartPolicy#never()}): when a rank launched on the ticket fails as the policy says,
   * every rank is stopped (whole process trees) and all start again on their slots, with the same MASTER_ADDR,
   * MASTER_PORT and SPOKE_PORT_i and SPOKE_ATTEMPT counting the gang's starts, at most the policy's restarts; past
   * them the ticket fails and its owner hears why. A collective (NCCL, gloo) needs every rank: one lost rank breaks
   * it. Ranks' own restart policies are not used on such a ticket.
   */
  public GangRequest setRestart(RestartPolicy restart) {
    this.restart = java.util.Objects.requireNonNull(restart, "restart");
    return this;
  }
}
