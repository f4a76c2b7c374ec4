// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * A request that asked to wait for resources was not placed before its timeout; nothing was reserved.
 */
public final class PlacementTimeoutException extends SchedulingException {

  private static final long serialVersionUID = 1L;

  public PlacementTimeoutException(String message) {
    super(message);
  }
}
