// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.client.GpuInfo;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class GpuDiscoveryTest {

  /** What nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader prints on an 8-GPU H100 node. */
  static final String H100_NODE = String.join("\n",
    "0, GPU-5e3f2c1a-6d0b-7b1e-9c1d-0a1b2c3d4e50, NVIDIA H100 80GB HBM3, 81559 MiB",
    "1, GPU-5e3f2c1a-6d0b-7b1e-9c1d-0a1b2c3d4e51, NVIDIA H100 80GB HBM3, 81559 MiB",
    "2, GPU-5e3f2c1a-6d0b-7b1e-9c1d-0a1b2c3d4e52, NVIDIA H100 80GB HBM3, 81559 MiB",
    "3, GPU-5e3f2c1a-6d0b-7b1e-9c1d-0a1b2c3d4e53, NVIDIA H100 80GB HBM3, 81559 MiB",
    "4, GPU-5e3f2c1a-6d0b-7b1e-9c1d-0a1b2c3d4e54, NVIDIA H100 80GB HBM3, 81559 MiB",
    "5, GPU-5e3f2c1a-6d0b-7b1e-9c1d-0a1b2c3d4e55, NVIDIA H100 80GB HBM3, 81559 MiB",
    "6, GPU-5e3f2c1a-6d0b-7b1e-9c1d-0a1b2c3d4e56, NVIDIA H100 80GB HBM3, 81559 MiB",
    "7, GPU-5e3f2c1a-6d0b-7b1e-9c1d-0a1b2c3d4e57, NVIDIA H100 80GB HBM3, 81559 MiB", "");

  private static List<Integer> indexes(List<GpuInfo> gpus) {
    return gpus.stream().map(GpuInfo::index).collect(Collectors.toList());
  }

  @Test
  void parsesNvidiaSmiInventory() {
    List<GpuInfo> gpus = GpuDiscovery.parse(H100_NODE);
    assertThat(gpus).hasSize(8);
    assertThat(gpus.get(3).index()).isEqualTo(3);
    assertThat(gpus.get(3).uuid()).isEqualTo("GPU-5e3f2c1a-6d0b-7b1e-9c1d-0a1b2c3d4e53");
    assertThat(gpus.get(3).name()).isEqualTo("NVIDIA H100 80GB HBM3");
    assertThat(gpus.get(3).memoryMb()).isEqualTo(81559);
  }

  @Test
  void keepsCommasInsideNamesAndToleratesMissingMemory() {
    List<GpuInfo> gpus = GpuDiscovery.parse("0, GPU-x, Tesla V100-SXM2-16GB, rev A, [N/A]\r\n");
    assertThat(gpus.get(0).name()).isEqualTo("Tesla V100-SXM2-16GB, rev A");
    assertThat(gpus.get(0).memoryMb()).isZero();
  }

  @Test
  void refusesOutputItDoesNotUnderstand() {
    assertThatThrownBy(() -> GpuDiscovery.parse("No devices were found, sorry")).isInstanceOf(RuntimeException.class);
  }

  @Test
  void narrowsToTheAgentsOwnCudaVisibleDevices() {
    List<GpuInfo> all = GpuDiscovery.parse(H100_NODE);
    assertThat(indexes(GpuDiscovery.narrow(all, null))).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
    assertThat(indexes(GpuDiscovery.narrow(all, "2,5,7"))).containsExactly(2, 5, 7);
    assertThat(indexes(GpuDiscovery.narrow(all, "GPU-5e3f2c1a-6d0b-7b1e-9c1d-0a1b2c3d4e56, 1"))).containsExactly(6, 1);
    assertThat(GpuDiscovery.narrow(all, "")).isEmpty();
    // Like CUDA, stop at the first entry that matches nothing.
    assertThat(indexes(GpuDiscovery.narrow(all, "3,42,4"))).containsExactly(3);
  }

  @Test
  void simulatesGpusForMachinesWithout() {
    assertThat(indexes(GpuDiscovery.discover(4, null))).containsExactly(0, 1, 2, 3);
    assertThat(indexes(GpuDiscovery.discover(8, "1,3"))).containsExactly(1, 3);
    assertThat(GpuDiscovery.discover(0, null)).isEmpty();
  }
}
