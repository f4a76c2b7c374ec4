// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;

/** Facts about this machine that the JDK does not give directly. Blocking. */
final class MachineInfo {

  private MachineInfo() {
  }

  /** Total memory in MiB, from /proc/meminfo; 0 where unknown. */
  static long memoryMb() {
    try {
      for (String line : Files.readAllLines(Paths.get("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux, or an unexpected format
    }
    return 0;
  }
}
