// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.scheduler;

import java.util.BitSet;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the scheduler knows of one node: its capacity, and which GPU ids, CPUs, memory and custom resources
 * are free. GPUs are tracked by id in a free set, never as a counter, so releases in any order cannot hand
 * one GPU out twice.
 */
public final class NodeState {

  private final String id;
  private BitSet gpus;
  private BitSet freeGpus;
  private int cpus;
  private int freeCpus;
  private long memoryMb;
  private long freeMemoryMb;
  private Map<String, Long> custom;
  private final Map<String, Long> freeCustom;
  private int reservations;
  private boolean available = true;
  /** The scheduler's table of free resources and this node's row in it; null until the node is in a scan. */
  private FreeTable table;
  private int row = -1;

  NodeState(String id, BitSet gpus, int cpus, long memoryMb, Map<String, Long> custom) {
    this.id = id;
    this.gpus = (BitSet) gpus.clone();
    this.freeGpus = (BitSet) gpus.clone();
    this.cpus = cpus;
    this.freeCpus = cpus;
    this.memoryMb = memoryMb;
    this.freeMemoryMb = memoryMb;
    this.custom = new TreeMap<>(custom);
    this.freeCustom = new TreeMap<>(custom);
  }

  public String id() {
    return id;
  }

  /** Ids of all its GPUs. */
  public BitSet gpus() {
    return (BitSet) gpus.clone();
  }

  /** Ids of its free GPUs. */
  public BitSet freeGpus() {
    return (BitSet) freeGpus.clone();
  }

  public int freeGpuCount() {
    return freeGpus.cardinality();
  }

  public int gpuCount() {
    return gpus.cardinality();
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

  /** Declared custom resources and their amounts. */
  public Map<String, Long> custom() {
    return Collections.unmodifiableMap(custom);
  }

  /** What is free of each custom resource. */
  public Map<String, Long> freeCustom() {
    return Collections.unmodifiableMap(freeCustom);
  }

  /** Live reservations on the node. */
  public int reservations() {
    return reservations;
  }

  /** Whether new work may be placed here (its agent is connected and alive). */
  public boolean available() {
    return available;
  }

  void available(boolean available) {
    this.available = available;
    sync();
  }

  void attach(FreeTable table, int row) {
    this.table = table;
    this.row = row;
    sync();
  }

  /** Writes what is free now to the scheduler's table. */
  void sync() {
    if (table != null) {
      table.gpus[row] = freeGpus.cardinality();
      table.cpus[row] = freeCpus;
      table.memoryMb[row] = freeMemoryMb;
      table.available[row] = available;
    }
  }

  boolean fits(Resources r) {
    return fitCount(r, freeGpus.cardinality(), freeCpus, freeMemoryMb, freeCustom, 1) >= 1;
  }

  /** How many actors of {@code r} fit in what is free now (at most {@code limit}). */
  int fitsNow(Resources r, int limit) {
    return fitCount(r, freeGpus.cardinality(), freeCpus, freeMemoryMb, freeCustom, limit);
  }

  /** How many actors of {@code r} would fit in the node's whole capacity, empty (at most {@code limit}). */
  int fitsEmpty(Resources r, int limit) {
    return fitCount(r, gpus.cardinality(), cpus, memoryMb, custom, limit);
  }

  private static int fitCount(Resources r, int gpus, int cpus, long memory, Map<String, Long> custom, int limit) {
    long n = limit;
    if (r.gpus() > 0) {
      n = Math.min(n, gpus / r.gpus());
    }
    if (r.cpus() > 0) {
      n = Math.min(n, cpus / r.cpus());
    }
    if (r.memoryMb() > 0) {
      n = Math.min(n, memory / r.memoryMb());
    }
    if (!r.custom().isEmpty()) {
      for (Map.Entry<String, Long> e : r.custom().entrySet()) {
        n = Math.min(n, custom.getOrDefault(e.getKey(), 0L) / e.getValue());
      }
    }
    return (int) Math.max(0, n);
  }

  /** Fraction of GPUs in use (counted double), then of CPUs: how loaded the node is, for least-loaded placement. */
  double load() {
    int total = gpus.cardinality();
    double gpuLoad = total == 0 ? 0 : 1.0 - (double) freeGpus.cardinality() / total;
    double cpuLoad = cpus == 0 ? 0 : 1.0 - (double) freeCpus / cpus;
    return gpuLoad * 2 + cpuLoad;
  }

  Reservation reserve(Resources r) {
    int[] ids = new int[r.gpus()];
    int next = -1;
    for (int i = 0; i < ids.length; i++) {
      next = freeGpus.nextSetBit(next + 1);
      if (next < 0) {
        throw new IllegalStateException("node " + id + " has no free GPU for " + r);
      }
      ids[i] = next;
    }
    for (int gpu : ids) {
      freeGpus.clear(gpu);
    }
    freeCpus -= r.cpus();
    freeMemoryMb -= r.memoryMb();
    r.custom().forEach((k, v) -> freeCustom.merge(k, -v, Long::sum));
    reservations++;
    sync();
    return new Reservation(this, ids, r.cpus(), r.memoryMb(), r.custom());
  }

  /**
   * Reserves exactly {@code gpuIds} and {@code rest}'s CPUs, memory and custom resources, for something that
   * already holds them: an actor that runs (an agent re-registering), or a gang rank read back from the hub's
   * journal. Takes only what exists and is free, so a conflicting record cannot hand anything out twice; the
   * reservation says what it got.
   */
  Reservation adopt(int[] gpuIds, Resources rest) {
    BitSet taken = new BitSet();
    for (int gpu : gpuIds) {
      if (gpu >= 0 && freeGpus.get(gpu)) {
        freeGpus.clear(gpu);
        taken.set(gpu);
      }
    }
    int takenCpus = Math.max(0, Math.min(freeCpus, rest.cpus()));
    long takenMemory = Math.max(0, Math.min(freeMemoryMb, rest.memoryMb()));
    Map<String, Long> takenCustom = new TreeMap<>();
    rest.custom().forEach((k, v) -> {
      long amount = Math.max(0, Math.min(freeCustom.getOrDefault(k, 0L), v));
      if (amount > 0) {
        freeCustom.merge(k, -amount, Long::sum);
        takenCustom.put(k, amount);
      }
    });
    freeCpus -= takenCpus;
    freeMemoryMb -= takenMemory;
    reservations++;
    sync();
    return new Reservation(this, taken.stream().toArray(), takenCpus, takenMemory, takenCustom);
  }

  void release(Reservation r) {
    for (int gpu : r.gpuIdsUnsafe()) {
      if (gpus.get(gpu)) {
        if (freeGpus.get(gpu)) {
          throw new IllegalStateException("GPU " + gpu + " of node " + id + " released twice");
        }
        freeGpus.set(gpu);
      }
    }
    freeCpus = Math.min(cpus, freeCpus + r.cpus());
    freeMemoryMb = Math.min(memoryMb, freeMemoryMb + r.memoryMb());
    r.custom().forEach((k, v) -> freeCustom.put(k, Math.min(custom.getOrDefault(k, 0L), freeCustom.getOrDefault(k, 0L) + v)));
    reservations--;
    sync();
  }

  /** New capacity from a re-registration: what is reserved stays reserved, as far as it still exists. */
  void resize(BitSet newGpus, int newCpus, long newMemoryMb, Map<String, Long> newCustom) {
    BitSet used = (BitSet) gpus.clone();
    used.andNot(freeGpus);
    used.and(newGpus);
    gpus = (BitSet) newGpus.clone();
    freeGpus = (BitSet) newGpus.clone();
    freeGpus.andNot(used);
    freeCpus = Math.max(0, newCpus - (cpus - freeCpus));
    cpus = newCpus;
    freeMemoryMb = Math.max(0, newMemoryMb - (memoryMb - freeMemoryMb));
    memoryMb = newMemoryMb;
    Map<String, Long> oldCustom = custom;
    custom = new TreeMap<>(newCustom);
    Map<String, Long> oldFree = new TreeMap<>(freeCustom);
    freeCustom.clear();
    custom.forEach((k, v) -> {
      long usedAmount = oldCustom.getOrDefault(k, 0L) - oldFree.getOrDefault(k, 0L);
      freeCustom.put(k, Math.max(0, v - usedAmount));
    });
    sync();
  }

  /** What is free, for messages: "3 of 8 GPUs, 10 of 16 CPUs and 900 of 1000 MiB free". */
  String describeFree() {
    StringBuilder sb = new StringBuilder();
    sb.append(freeGpus.cardinality()).append(" of ").append(gpus.cardinality()).append(" GPUs, ")
      .append(freeCpus).append(" of ").append(cpus).append(" CPUs and ")
      .append(freeMemoryMb).append(" of ").append(memoryMb).append(" MiB");
    freeCustom.forEach((k, v) -> sb.append(", ").append(v).append(" of ").append(custom.get(k)).append(' ').append(k));
    return sb.append(" free").toString();
  }

  @Override
  public String toString() {
    return id + " (" + describeFree() + ")";
  }
}
