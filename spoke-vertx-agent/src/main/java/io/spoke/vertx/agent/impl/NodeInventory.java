// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.process.GpuDiscovery;
import io.spoke.vertx.client.GpuInfo;
import io.spoke.vertx.internal.LocalHost;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What this node has, as the agent reports it to the hub when it registers: its GPUs, CPUs and memory (what the
 * options say, or else what the machine has), and the host's boot id (which tells clients where actors' Unix sockets
 * can be reached). Read once, when the agent starts.
 */
final class NodeInventory {

  final List<GpuInfo> gpus;
  final int cpus;
  final long memoryMb;
  /**
   * Whether the agent was given a subset of the GPUs ({@code CUDA_VISIBLE_DEVICES} set): then every actor sees exactly
   * its own, also one without GPUs.
   */
  final boolean gpuEnvManaged;
  /** This host's boot id; null where unknown. */
  final String hostId;

  private NodeInventory(List<GpuInfo> gpus, int cpus, long memoryMb, boolean gpuEnvManaged, String hostId) {
    this.gpus = gpus;
    this.cpus = cpus;
    this.memoryMb = memoryMb;
    this.gpuEnvManaged = gpuEnvManaged;
    this.hostId = hostId;
  }

  /**
   * Inspects the machine, as far as {@code options} leave it to be found; {@code visible} is the agent's {@code
   * CUDA_VISIBLE_DEVICES}, or null. Blocking ({@code nvidia-smi}, /proc): call it on a worker.
   */
  static NodeInventory discover(AgentOptions options, String visible) {
    List<GpuInfo> gpus = GpuDiscovery.discover(options.getGpus(), visible);
    int cpus = options.getCpus() >= 0 ? options.getCpus() : Runtime.getRuntime().availableProcessors();
    long memoryMb = options.getMemoryMb() >= 0 ? options.getMemoryMb() : MachineInfo.memoryMb();
    return new NodeInventory(gpus, cpus, memoryMb, visible != null, LocalHost.id());
  }

  /** The GPU indexes, as "[0,1]", for the log. */
  String gpuList() {
    return gpus.stream().map(g -> String.valueOf(g.index())).collect(Collectors.joining(",", "[", "]"));
  }
}
