// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.chaos;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** What the soak found wrong, in order, each once; and the checks it made, by kind. Thread-safe. */
final class Violations {

  private final List<String> found = new ArrayList<>();
  private final Map<String, Long> checks = new TreeMap<>();
  private final long startNanos = System.nanoTime();

  synchronized void add(String violation) {
    String line = String.format("%7.1f s  %s", (System.nanoTime() - startNanos) / 1e9, violation);
    if (found.stream().noneMatch(f -> f.endsWith(violation))) {
      found.add(line);
      System.err.println("chaos: VIOLATION at " + Instant.now() + ": " + violation);
    }
  }

  synchronized void checked(String kind) {
    checks.merge(kind, 1L, Long::sum);
  }

  synchronized List<String> found() {
    return new ArrayList<>(found);
  }

  synchronized Map<String, Long> checks() {
    return new TreeMap<>(checks);
  }
}
