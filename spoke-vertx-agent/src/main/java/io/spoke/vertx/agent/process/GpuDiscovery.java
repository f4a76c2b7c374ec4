// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.process;

import io.spoke.vertx.client.GpuInfo;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Finds a node's GPUs: {@code nvidia-smi}'s inventory, or simulated GPUs for machines without any, narrowed
 * to the devices the agent itself may use when it runs under {@code CUDA_VISIBLE_DEVICES} (as Slurm sets it).
 * Blocking: run it on a worker thread.
 */
public final class GpuDiscovery {

  private static final Logger log = LogManager.getLogger(GpuDiscovery.class);

  static final String[] NVIDIA_SMI = {"nvidia-smi", "--query-gpu=index,uuid,name,memory.total", "--format=csv,noheader"};

  private GpuDiscovery() {
  }

  /**
   * The GPUs this agent may hand out.
   *
   * @param simulated number of simulated GPUs, or -1 to ask {@code nvidia-smi}
   * @param visibleDevices the agent's own {@code CUDA_VISIBLE_DEVICES}, or {@code null} when unset
   */
  public static List<GpuInfo> discover(int simulated, String visibleDevices) {
    List<GpuInfo> all = simulated >= 0 ? simulate(simulated) : nvidiaSmi();
    return narrow(all, visibleDevices);
  }

  public static List<GpuInfo> simulate(int count) {
    List<GpuInfo> gpus = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      gpus.add(new GpuInfo(i, "GPU-SIMULATED-" + i, "Simulated GPU", 0));
    }
    return gpus;
  }

  /** Runs {@code nvidia-smi}; no GPUs when it is missing or fails. */
  static List<GpuInfo> nvidiaSmi() {
    Process process;
    try {
      process = new ProcessBuilder(NVIDIA_SMI).redirectErrorStream(true).start();
    } catch (IOException e) {
      log.info("nvidia-smi not found: this node has no GPUs (use --gpus N to simulate some)");
      return List.of();
    }
    try (InputStream in = process.getInputStream()) {
      String output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        log.warn("nvidia-smi did not finish within 10 s: this node reports no GPUs");
        return List.of();
      }
      if (process.exitValue() != 0) {
        log.warn("nvidia-smi failed with status {}: {}", process.exitValue(), output.trim());
        return List.of();
      }
      return parse(output);
    } catch (IOException e) {
      log.warn("Reading nvidia-smi's output failed: {}", e.toString());
      return List.of();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
      return List.of();
    }
  }

  /**
   * Parses {@code nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader}, one GPU a
   * line: {@code 0, GPU-5e3f..., NVIDIA H100 80GB HBM3, 81559 MiB}. A name may itself contain commas.
   */
  public static List<GpuInfo> parse(String output) {
    List<GpuInfo> gpus = new ArrayList<>();
    for (String line : output.split("\\R")) {
      if (line.isBlank()) {
        continue;
      }
      String[] fields = line.split(",");
      if (fields.length < 4) {
        throw new IllegalArgumentException("unexpected nvidia-smi line: " + line);
      }
      int index = Integer.parseInt(fields[0].trim());
      String uuid = fields[1].trim();
      StringBuilder name = new StringBuilder(fields[2].trim());
      for (int i = 3; i < fields.length - 1; i++) {
        name.append(',').append(fields[i]);
      }
      gpus.add(new GpuInfo(index, uuid, name.toString().trim(), parseMiB(fields[fields.length - 1].trim())));
    }
    return gpus;
  }

  private static long parseMiB(String field) {
    String digits = field.replaceAll("[^0-9]", "");
    return digits.isEmpty() ? 0 : Long.parseLong(digits);
  }

  /**
   * The subset of {@code gpus} named by a {@code CUDA_VISIBLE_DEVICES} value (indexes or UUIDs, comma
   * separated; an empty value hides every GPU). CUDA stops at the first invalid entry, and so does this.
   */
  public static List<GpuInfo> narrow(List<GpuInfo> gpus, String visibleDevices) {
    if (visibleDevices == null) {
      return gpus;
    }
    Set<GpuInfo> visible = new LinkedHashSet<>();
    for (String entry : visibleDevices.split(",")) {
      String token = entry.trim();
      if (token.isEmpty()) {
        break;
      }
      GpuInfo match = null;
      for (GpuInfo gpu : gpus) {
        if (token.equals(String.valueOf(gpu.index())) || (gpu.uuid() != null && gpu.uuid().startsWith(token) && token.startsWith("GPU-"))) {
          match = gpu;
          break;
        }
      }
      if (match == null) {
        log.warn("CUDA_VISIBLE_DEVICES entry '{}' matches no GPU of this node; ignoring it and the entries after it", token);
        break;
      }
      visible.add(match);
    }
    return new ArrayList<>(visible);
  }
}
