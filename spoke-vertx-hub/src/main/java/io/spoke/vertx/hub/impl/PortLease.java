// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.internal.net.Connection;

/**
 * A rendezvous port an agent holds under {@link #holder} (a ticket id, or a lease id the hub made up), checked
 * free by the agent when it was handed out.
 */
final class PortLease {

  final int port;
  final String holder;
  /** The agent connection it was obtained on: a lease does not survive a reconnection. */
  final Connection connection;
  final long leasedAtNanos;

  PortLease(int port, String holder, Connection connection, long leasedAtNanos) {
    this.port = port;
    this.holder = holder;
    this.connection = connection;
    this.leasedAtNanos = leasedAtNanos;
  }
}
