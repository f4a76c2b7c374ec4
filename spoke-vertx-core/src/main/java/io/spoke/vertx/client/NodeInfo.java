// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A node of the cluster (one agent) and its free resources, as the hub sees it. Immutable. */
public final class NodeInfo {

  private final String id;
  private final String host;
  private final int port;
  private final boolean alive;
  private final List<GpuInfo> gpus;
  private final List<Integer> freeGpus;
  private final int cpus;
  private final int freeCpus;
  private final long memoryMb;
  private final long freeMemoryMb;
  private final int actors;
  private final Map<String, Long> customResources;
  private final Map<String, Long> freeCustomResources;

  public NodeInfo(String id, String host, int port, boolean alive, List<GpuInfo> gpus, List<Integer> freeGpus, int cpus,
                  int freeCpus, long memoryMb, long freeMemoryMb, int actors) {
    this(id, host, port, alive, gpus, freeGpus, cpus, freeCpus, memoryMb, freeMemoryMb, actors, Map.of(), Map.of());
  }

  public NodeInfo(String id, String host, int port, boolean alive, List<GpuInfo> gpus, List<Integer> freeGpus, int cpus,
                  int freeCpus, long memoryMb, long freeMemoryMb, int actors, Map<String, Long> customResources,
                  Map<String, Long> freeCustomResources) {
    this.id = id;
    this.host = host;
    this.port = port;
    this.alive = alive;
    this.gpus = List.copyOf(gpus);
    this.freeGpus = List.copyOf(freeGpus);
    this.cpus = cpus;
    this.freeCpus = freeCpus;
    this.memoryMb = memoryMb;
    this.freeMemoryMb = freeMemoryMb;
    this.actors = actors;
    this.customResources = Collections.unmodifiableMap(new TreeMap<>(customResources));
    this.freeCustomResources = Collections.unmodifiableMap(new TreeMap<>(freeCustomResources));
  }

  /** Named custom resources the node declared, and their amounts. */
  public Map<String, Long> customResources() {
    return customResources;
  }

  /** What is free of each custom resource. */
  public Map<String, Long> freeCustomResources() {
    return freeCustomResources;
  }

  public String id() {
    return id;
  }

  /** The address the node's agent advertises. */
  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  /** False once the node missed its heartbeats or its agent disconnected. */
  public boolean alive() {
    return alive;
  }

  public List<GpuInfo> gpus() {
    return gpus;
  }

  /** Physical ids of the GPUs not reserved by any actor. */
  public List<Integer> freeGpus() {
    return freeGpus;
  }

  public int cpus() {
    return cpus;
  }

  public int freeCpus() {
    return freeCpus;
  }

  public long memoryMb() {
    return memoryMb;
  }

  public long freeMemoryMb() {
    return freeMemoryMb;
  }

  /** Number of actors running or starting there. */
  public int actors() {
    return actors;
  }

  public JsonObject toJson() {
    JsonArray gpuArray = new JsonArray();
    gpus.forEach(g -> gpuArray.add(g.toJson()));
    return new JsonObject()
      .put("id", id)
      .put("host", host)
      .put("port", port)
      .put("alive", alive)
      .put("gpus", gpuArray)
      .put("freeGpus", new JsonArray(freeGpus))
      .put("cpus", cpus)
      .put("freeCpus", freeCpus)
      .put("memoryMb", memoryMb)
      .put("freeMemoryMb", freeMemoryMb)
      .put("actors", actors)
      .put("customResources", new JsonObject(new LinkedHashMap<>(customResources)))
      .put("freeCustomResources", new JsonObject(new LinkedHashMap<>(freeCustomResources)));
  }

  @Override
  public String toString() {
    return "NodeInfo" + toJson().encode();
  }
}
