// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * A connection was refused because one side could not prove it holds the cluster token (none set, or a
 * different one), or because its address is blocked for a while after repeated failures: give every process
 * of the cluster the same token ({@code --token-file} or {@code SPOKE_TOKEN}).
 */
public final class AuthenticationException extends SpokeException {

  private static final long serialVersionUID = 1L;

  public AuthenticationException(String message) {
    super(message);
  }
}
