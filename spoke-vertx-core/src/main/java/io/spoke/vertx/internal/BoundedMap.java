// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A map that keeps the {@code capacity} entries put last: a put of a new key beyond it drops the oldest entry (by
 * first insertion; putting a key again does not make it younger). For bounded memories of what ended (exited actors,
 * released tickets) that must not grow with a long-running process's history. Not thread-safe, as verticle state.
 */
public final class BoundedMap<K, V> extends LinkedHashMap<K, V> {

  private static final long serialVersionUID = 1L;

  private final int capacity;

  public BoundedMap(int capacity) {
    super(16, 0.75f, false);
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
    }
    this.capacity = capacity;
  }

  public int capacity() {
    return capacity;
  }

  @Override
  protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
    return size() > capacity;
  }
}
