// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

/**
 * How a gang's ranks are spread over nodes, as Ray's placement groups name it. A gang of
 * {@code nodes x actorsPerNode} ranks:
 */
public enum PlacementStrategy {
  /**
   * Each group of {@code actorsPerNode} consecutive ranks on one node, the groups on {@code nodes} distinct
   * nodes (Spoke's {@code strict_pack=true}): tensor parallelism within a node, data parallelism across.
   */
  STRICT_PACK,
  /** As few nodes as possible, best effort: a group may be split when no node has room for it whole. */
  PACK,
  /** As many distinct nodes as possible, best effort: ranks are dealt round-robin over the nodes with room. */
  SPREAD,
  /** Every rank on a different node: needs {@code nodes x actorsPerNode} nodes. */
  STRICT_SPREAD
}
