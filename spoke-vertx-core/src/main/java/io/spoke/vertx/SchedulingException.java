// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * The cluster has no room for the request: the message says what was asked for and what the best
 * candidate has free.
 */
public class SchedulingException extends SpokeException {

  private static final long serialVersionUID = 1L;

  public SchedulingException(String message) {
    super(message);
  }
}
