// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * The node (its agent) is unknown to the hub, disconnected, or dead.
 */
public final class NodeUnavailableException extends SpokeException {

  private static final long serialVersionUID = 1L;

  public NodeUnavailableException(String message) {
    super(message);
  }
}
