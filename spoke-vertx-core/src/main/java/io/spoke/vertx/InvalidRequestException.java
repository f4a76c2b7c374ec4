// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * A server refused a request's arguments (an empty or malformed id, a negative resource count). Clients
 * check arguments before sending, so this is seen from peers that do not.
 */
public final class InvalidRequestException extends SpokeException {

  private static final long serialVersionUID = 1L;

  public InvalidRequestException(String message) {
    super(message);
  }
}
