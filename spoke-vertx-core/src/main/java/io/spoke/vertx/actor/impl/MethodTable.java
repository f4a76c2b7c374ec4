// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor.impl;

import io.netty.util.collection.IntObjectHashMap;
import java.util.Arrays;
import java.util.stream.Collectors;

/** An actor's methods by id, as its {@link io.spoke.vertx.actor.Actor} or its services registered them. */
final class MethodTable {

  private final String actorType;
  private final IntObjectHashMap<MethodEntry> methods = new IntObjectHashMap<>();

  MethodTable(String actorType) {
    this.actorType = actorType;
  }

  /** The method of id {@code id}, or {@code null}. */
  MethodEntry get(int id) {
    return methods.get(id);
  }

  void forEach(java.util.function.Consumer<MethodEntry> action) {
    methods.values().forEach(action);
  }

  void add(MethodEntry entry) {
    MethodEntry existing = methods.get(entry.id);
    if (existing != null) {
      throw new IllegalArgumentException("method id " + entry.id + " (0x" + Integer.toHexString(entry.id) + ") is registered twice on"
        + " actor type " + actorType + (entry.name != null || existing.name != null ? ": by " + existing.describe() + " and " + entry.describe()
        : ""));
    }
    methods.put(entry.id, entry);
  }

  /** Registered method ids, for messages. */
  String methodList() {
    int[] ids = methods.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
    return ids.length == 0 ? "none" : Arrays.stream(ids).mapToObj(id -> methods.get(id).describe())
      .collect(Collectors.joining(", "));
  }
}
