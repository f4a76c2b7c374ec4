// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.scheduler;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/** An amount of node resources: what one actor asks for. Immutable. */
public final class Resources {

  public static final Resources NONE = new Resources(0, 0, 0);

  private final int gpus;
  private final int cpus;
  private final long memoryMb;
  private final Map<String, Long> custom;

  public Resources(int gpus, int cpus, long memoryMb) {
    this(gpus, cpus, memoryMb, Map.of());
  }

  public Resources(int gpus, int cpus, long memoryMb, Map<String, Long> custom) {
    if (gpus < 0 || cpus < 0 || memoryMb < 0) {
      throw new IllegalArgumentException("resources must not be negative: gpus=" + gpus + ", cpus=" + cpus + ", memoryMb=" + memoryMb);
    }
    TreeMap<String, Long> sorted = new TreeMap<>();
    for (Map.Entry<String, Long> e : custom.entrySet()) {
      if (e.getValue() < 0) {
        throw new IllegalArgumentException("resource " + e.getKey() + " must not be negative: " + e.getValue());
      }
      if (e.getValue() > 0) {
        sorted.put(e.getKey(), e.getValue());
      }
    }
    this.gpus = gpus;
    this.cpus = cpus;
    this.memoryMb = memoryMb;
    this.custom = Collections.unmodifiableMap(sorted);
  }

  public int gpus() {
    return gpus;
  }

  public int cpus() {
    return cpus;
  }

  public long memoryMb() {
    return memoryMb;
  }

  /** Named resources (only those with a positive amount), sorted by name. */
  public Map<String, Long> custom() {
    return custom;
  }

  /** {@code n} times these resources. */
  public Resources times(int n) {
    TreeMap<String, Long> c = new TreeMap<>();
    custom.forEach((k, v) -> c.put(k, v * n));
    return new Resources(gpus * n, cpus * n, memoryMb * n, c);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    sb.append(gpus).append(gpus == 1 ? " GPU" : " GPUs");
    if (cpus > 0) {
      sb.append(", ").append(cpus).append(cpus == 1 ? " CPU" : " CPUs");
    }
    if (memoryMb > 0) {
      sb.append(", ").append(memoryMb).append(" MiB");
    }
    custom.forEach((k, v) -> sb.append(", ").append(v).append(' ').append(k));
    return sb.toString();
  }
}
