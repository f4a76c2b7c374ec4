// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * The actor registered no method with the called id; the message lists the ids it has.
 */
public final class UnknownMethodException extends SpokeException {

  private static final long serialVersionUID = 1L;

  public UnknownMethodException(String message) {
    super(message);
  }
}
