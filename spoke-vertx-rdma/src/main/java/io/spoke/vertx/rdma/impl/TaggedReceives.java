// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.rdma.impl;

import java.util.ArrayDeque;
import java.util.Iterator;
import org.openucx.jucx.ucp.UcpTagMessage;
import org.openucx.jucx.ucp.UcpWorker;

/** The tagged receives waiting for a message, matched in the order they were queued; progress thread only. */
final class TaggedReceives {

  private final UcpWorker worker;
  private final ArrayDeque<TaggedReceive> receives = new ArrayDeque<>();

  TaggedReceives(UcpWorker worker) {
    this.worker = worker;
  }

  void add(TaggedReceive receive) {
    receives.add(receive);
  }

  /** Probes for each waiting receive's message: whether one matched. */
  boolean match() {
    return !receives.isEmpty() && matchReceives();
  }

  private boolean matchReceives() {
    boolean matched = false;
    for (Iterator<TaggedReceive> it = receives.iterator(); it.hasNext(); ) {
      TaggedReceive receive = it.next();
      UcpTagMessage message = worker.tagProbeNonBlocking(receive.tag(), -1L, true);
      if (message != null) {
        it.remove();
        receive.matched(message);
        matched = true;
      }
    }
    return matched;
  }
}
