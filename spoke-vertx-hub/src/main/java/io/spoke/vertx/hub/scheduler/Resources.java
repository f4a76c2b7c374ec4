package io.spoke.vertx.hub.scheduler;

/** An amount of node resources: what an actor asks for. Immutable. */
public final class Resources {

  public static final Resources NONE = new Resources(0, 0, 0);

  private final int gpus;
  private final int cpus;
  private final long memoryMb;

  public Resources(int gpus, int cpus, long memoryMb) {
    if (gpus < 0 || cpus < 0 || memoryMb < 0) {
      throw new IllegalArgumentException("resources must not be negative: gpus=" + gpus + ", cpus=" + cpus + ", memoryMb=" + memoryMb);
    }
    this.gpus = gpus;
    this.cpus = cpus;
    this.memoryMb = memoryMb;
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
    return sb.toString();
  }
}
