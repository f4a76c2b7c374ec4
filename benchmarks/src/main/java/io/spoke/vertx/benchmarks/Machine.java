// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.time.Instant;

/** What the harness ran on: recorded with every result, since the bars are ratios on this machine. */
final class Machine {

  private Machine() {
  }

  static JsonObject describe() {
    return new JsonObject()
      .put("date", Instant.now().toString())
      .put("cores", Runtime.getRuntime().availableProcessors())
      .put("cpu", procField("/proc/cpuinfo", "model name"))
      .put("memory", procField("/proc/meminfo", "MemTotal"))
      .put("jdk", System.getProperty("java.vm.vendor") + " " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"))
      .put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
  }

  private static String procField(String file, String name) {
    try {
      for (String line : Files.readAllLines(Paths.get(file))) {
        if (line.startsWith(name)) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException ignored) {
      // not Linux
    }
    return "unknown";
  }
}
