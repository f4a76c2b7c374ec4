// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * The request can never be placed on the cluster as registered, even empty (more GPUs per node than any
 * node has, more nodes than there are): it fails at once, also when asked to wait. The message says why.
 */
public final class InfeasibleException extends SchedulingException {

  private static final long serialVersionUID = 1L;

  public InfeasibleException(String message) {
    super(message);
  }
}
