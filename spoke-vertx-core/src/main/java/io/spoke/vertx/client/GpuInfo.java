// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import io.vertx.core.json.JsonObject;

/** One GPU of a node, as its agent found it ({@code nvidia-smi}) or simulated it ({@code --gpus N}). */
public final class GpuInfo {

  private final int index;
  private final String uuid;
  private final String name;
  private final long memoryMb;

  public GpuInfo(int index, String uuid, String name, long memoryMb) {
    this.index = index;
    this.uuid = uuid;
    this.name = name;
    this.memoryMb = memoryMb;
  }

  /** Physical index: the id that goes into {@code CUDA_VISIBLE_DEVICES}. */
  public int index() {
    return index;
  }

  public String uuid() {
    return uuid;
  }

  public String name() {
    return name;
  }

  /** Total memory in MiB. */
  public long memoryMb() {
    return memoryMb;
  }

  public JsonObject toJson() {
    return new JsonObject().put("index", index).put("uuid", uuid).put("name", name).put("memoryMb", memoryMb);
  }

  @Override
  public String toString() {
    return "GPU " + index + " (" + name + ", " + memoryMb + " MiB, " + uuid + ")";
  }
}
