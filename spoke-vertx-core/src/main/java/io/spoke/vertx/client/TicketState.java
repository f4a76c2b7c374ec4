// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

/** Life cycle of a gang allocation's ticket. */
public enum TicketState {
  /** Waiting in the queue for resources (it asked to wait). */
  PENDING,
  /** Resources reserved; ranks can be launched. */
  ALLOCATED,
  /** A node of the gang died; what the ticket holds on other nodes stays reserved until it is released. */
  FAILED,
  /** Released: its actors stopped, its resources free. */
  RELEASED
}
