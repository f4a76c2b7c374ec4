// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * The RDMA data plane cannot be used between this client and an actor: this process or the actor's lacks
 * the UCX library ({@code libucx0}) or the {@code spoke-vertx-rdma} module, or UCX could not start. The
 * message says which side and what to install; calls keep going over TCP.
 */
public final class RdmaUnavailableException extends SpokeException {

  private static final long serialVersionUID = 1L;

  public RdmaUnavailableException(String message) {
    super(message);
  }

  public RdmaUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
