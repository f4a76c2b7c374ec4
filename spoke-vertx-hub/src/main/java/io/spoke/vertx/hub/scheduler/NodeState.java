package io.spoke.vertx.hub.scheduler;

import java.util.BitSet;

/**
 * What the scheduler knows of one node: its capacity, and which GPU ids, CPUs and memory are free. GPUs are
 * tracked by id in a free set, never as a counter, so releases in any order cannot hand one GPU out twice.
 */
public final class NodeState {

  private final String id;
  private BitSet gpus;
  private BitSet freeGpus;
  private int cpus;
  private int freeCpus;
  private long memoryMb;
  private long freeMemoryMb;
  private int allocations;
  private boolean available = true;

  NodeState(String id, BitSet gpus, int cpus, long memoryMb) {
    this.id = id;
    this.gpus = (BitSet) gpus.clone();
    this.freeGpus = (BitSet) gpus.clone();
    this.cpus = cpus;
    this.freeCpus = cpus;
    this.memoryMb = memoryMb;
    this.freeMemoryMb = memoryMb;
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

  /** Live allocations on the node. */
  public int allocations() {
    return allocations;
  }

  /** Whether new work may be placed here (its agent is connected and alive). */
  public boolean available() {
    return available;
  }

  void available(boolean available) {
    this.available = available;
  }

  boolean fits(Resources r) {
    return freeGpus.cardinality() >= r.gpus() && freeCpus >= r.cpus() && freeMemoryMb >= r.memoryMb();
  }

  /** Fraction of GPUs in use, then of CPUs: how loaded the node is, for least-loaded placement. */
  double load() {
    int total = gpus.cardinality();
    double gpuLoad = total == 0 ? 0 : 1.0 - (double) freeGpus.cardinality() / total;
    double cpuLoad = cpus == 0 ? 0 : 1.0 - (double) freeCpus / cpus;
    return gpuLoad * 2 + cpuLoad;
  }

  Allocation allocate(Resources r) {
    int[] ids = new int[r.gpus()];
    int next = -1;
    for (int i = 0; i < ids.length; i++) {
      next = freeGpus.nextSetBit(next + 1);
      ids[i] = next;
    }
    for (int gpu : ids) {
      freeGpus.clear(gpu);
    }
    freeCpus -= r.cpus();
    freeMemoryMb -= r.memoryMb();
    allocations++;
    return new Allocation(this, ids, r.cpus(), r.memoryMb());
  }

  /** Reserves exactly {@code gpuIds} (re-adopting an actor that already runs), as far as they exist and are free. */
  Allocation adopt(int[] gpuIds, int cpus, long memoryMb) {
    BitSet taken = new BitSet();
    for (int gpu : gpuIds) {
      if (gpu >= 0 && freeGpus.get(gpu)) {
        freeGpus.clear(gpu);
        taken.set(gpu);
      }
    }
    int c = Math.min(cpus, freeCpus);
    long m = Math.min(memoryMb, freeMemoryMb);
    freeCpus -= c;
    freeMemoryMb -= m;
    allocations++;
    return new Allocation(this, taken.stream().toArray(), c, m);
  }

  void release(Allocation a) {
    for (int gpu : a.gpuIdsUnsafe()) {
      if (gpus.get(gpu)) {
        if (freeGpus.get(gpu)) {
          throw new IllegalStateException("GPU " + gpu + " of node " + id + " released twice");
        }
        freeGpus.set(gpu);
      }
    }
    freeCpus = Math.min(cpus, freeCpus + a.cpus());
    freeMemoryMb = Math.min(memoryMb, freeMemoryMb + a.memoryMb());
    allocations--;
  }

  /** New capacity from a re-registration: GPUs still reserved stay reserved, as far as they still exist. */
  void resize(BitSet newGpus, int newCpus, long newMemoryMb) {
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
  }

  @Override
  public String toString() {
    return id + " (" + freeGpus.cardinality() + "/" + gpus.cardinality() + " GPUs free, " + freeCpus + "/" + cpus + " CPUs, "
      + freeMemoryMb + "/" + memoryMb + " MiB)";
  }
}
