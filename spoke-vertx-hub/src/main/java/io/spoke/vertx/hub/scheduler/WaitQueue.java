// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.scheduler;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * The gangs that asked to wait for room, by ticket, first in, first out: only the head may be placed, so that a
 * large gang is not starved by smaller ones that arrive after it.
 */
final class WaitQueue {

  private final LinkedHashMap<String, GangSpec> queue = new LinkedHashMap<>();

  boolean contains(String ticket) {
    return queue.containsKey(ticket);
  }

  boolean isEmpty() {
    return queue.isEmpty();
  }

  /** Queues {@code spec} behind those waiting. */
  void add(GangSpec spec) {
    queue.put(spec.ticket(), spec);
  }

  /** Takes a waiting request out; false if it was not waiting. */
  boolean remove(String ticket) {
    return queue.remove(ticket) != null;
  }

  /** The waiting requests, head first; its {@code remove()} takes the last one returned out of the queue. */
  Iterator<GangSpec> iterator() {
    return queue.values().iterator();
  }

  /** Tickets waiting, first in first out. */
  List<String> tickets() {
    return List.copyOf(queue.keySet());
  }

  /** Why a request that may not wait is refused while others wait ahead of it. */
  String waitingAhead() {
    return queue.size() + (queue.size() == 1 ? " earlier request is" : " earlier requests are")
      + " waiting for resources ahead of this one (first in, first out); ask to wait, or retry later";
  }
}
