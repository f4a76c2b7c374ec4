// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.scheduler;

import java.util.List;

/**
 * What is free on each node, in primitive arrays indexed by the node's place in the scan: a placement scans
 * 10,000 nodes reading these (a few cache lines per 16 nodes) instead of following each node's objects, and
 * looks at a node's objects only when it could be chosen. Every change to a node's free resources or
 * availability writes through ({@link NodeState#sync}).
 */
final class FreeTable {

  final int[] gpus;
  final int[] cpus;
  final long[] memoryMb;
  final boolean[] available;

  FreeTable(List<NodeState> nodes) {
    int n = nodes.size();
    gpus = new int[n];
    cpus = new int[n];
    memoryMb = new long[n];
    available = new boolean[n];
    for (int i = 0; i < n; i++) {
      nodes.get(i).attach(this, i);
    }
  }

  /**
   * How many actors of {@code r} fit on node {@code i} by GPUs, CPUs and memory (custom resources not counted),
   * as {@link NodeState#fitsNow} computes it.
   */
  int room(int i, Resources r) {
    long n = Integer.MAX_VALUE;
    if (r.gpus() > 0) {
      n = Math.min(n, gpus[i] / r.gpus());
    }
    if (r.cpus() > 0) {
      n = Math.min(n, cpus[i] / r.cpus());
    }
    if (r.memoryMb() > 0) {
      n = Math.min(n, memoryMb[i] / r.memoryMb());
    }
    return (int) Math.max(0, n);
  }
}
