// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.NodeUnavailableException;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.AgentHubCodec;
import io.vertx.core.Future;

/**
 * Rendezvous ports (MASTER_PORT) on the agents: reserved for a ticket, or ahead of time as leases that a node which
 * is a gang's rank 0 keeps for the hub (so that the gang is answered without a round trip to the agent), and given
 * back. Runs on the hub's event loop.
 */
final class PortLeases {

  /** Rendezvous ports kept leased per node that was rank 0 of a gang. */
  static final int LEASES_PER_NODE = 8;
  /** A leased port older than this is given back unused: the agent checked it free when it handed it out. */
  static final long LEASE_TTL_NANOS = 5_000_000_000L;

  private final HubState state;
  private long leaseSerial;

  PortLeases(HubState state) {
    this.state = state;
  }

  /** Asks {@code node}'s agent for a free port held under {@code holder}. */
  Future<Integer> reservePort(String holder, NodeRecord node) {
    if (node.connection == null) {
      return Future.failedFuture(new NodeUnavailableException("node " + node.id + " is disconnected"));
    }
    return node.connection.request(AgentHubCodec.reservePort(holder), null, state.options.getAgentTimeout(), "port reservation for "
      + holder, AgentHubCodec::readPortReserved);
  }

  /** A leased port of {@code node} checked free recently enough, or null; stale ones go back to the agent. */
  PortLease takeLease(NodeRecord node) {
    long now = System.nanoTime();
    for (PortLease lease; (lease = node.leases.poll()) != null; ) {
      if (lease.connection == node.connection && now - lease.leasedAtNanos < LEASE_TTL_NANOS) {
        return lease;
      }
      sendReleasePort(lease.connection, lease.holder);
    }
    return null;
  }

  /** Keeps {@link #LEASES_PER_NODE} ports held for the hub on a node that is a gang's rank 0, off the critical path. */
  void refillLeases(NodeRecord node) {
    Connection connection = node.connection;
    if (connection == null || connection.isClosed()) {
      return;
    }
    for (int i = node.leases.size() + node.leasesRequested; i < LEASES_PER_NODE; i++) {
      // '~' cannot appear in a ticket id, so a lease never collides with a ticket on the agent; the hub's instance tag
      // keeps it apart from the leases of an earlier hub that a restored ticket may still hold its port under.
      String holder = "~lease-" + state.instanceTag + "-" + (++leaseSerial);
      node.leasesRequested++;
      reservePort(holder, node).onComplete(ar -> {
        node.leasesRequested--;
        if (ar.succeeded()) {
          if (node.connection == connection) {
            node.leases.add(new PortLease(ar.result(), holder, connection, System.nanoTime()));
          } else {
            sendReleasePort(connection, holder);
          }
        }
      });
    }
  }

  /**
   * Gives a ticket's MASTER_PORT back. The port of a ticket that never launched an actor goes back to the hub's
   * leases (the agent still holds it, and nothing of ours bound it); after any launch, even a failed one, it goes
   * back to the agent, which checks it free again before handing it out.
   */
  void releasePort(TicketRecord ticket) {
    if (ticket.placement == null) {
      return;
    }
    NodeRecord master = state.nodes.get(ticket.placement.masterNode());
    if (master == null || master.connection == null || master.connection.isClosed()) {
      return;
    }
    String holder = ticket.portHolder != null ? ticket.portHolder : ticket.id;
    if (!ticket.launched && ticket.masterPort > 0 && master.leases.size() < LEASES_PER_NODE * 2) {
      master.leases.add(new PortLease(ticket.masterPort, holder, master.connection, ticket.portCheckedAtNanos));
      return;
    }
    sendReleasePort(master.connection, holder);
  }

  /** Tells the agent at {@code connection} that {@code holder} no longer needs its port. */
  static void sendReleasePort(Connection connection, String holder) {
    if (connection != null && !connection.isClosed()) {
      connection.send(AgentHubCodec.releasePort(holder), null);
    }
  }
}
