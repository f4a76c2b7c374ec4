// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * The hub asked is a standby of a highly available control plane: it serves nothing, and says which hub leads
 * ({@link #leader()}), so that agents and clients follow it. They do that by themselves when given several hub
 * addresses; this exception reaches a caller only when no listed hub leads.
 */
public final class NotLeaderException extends SpokeException {

  private static final long serialVersionUID = 1L;

  private final String leader;

  /** @param leader where the leader listens ({@code host:port}), or null when none leads now */
  public NotLeaderException(String message, String leader) {
    super(message);
    this.leader = leader;
  }

  /** Where the hub that leads listens ({@code host:port}), or null when no hub leads now (an election is under way). */
  public String leader() {
    return leader;
  }
}
