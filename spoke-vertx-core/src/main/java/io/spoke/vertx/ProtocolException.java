// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * A peer sent something that is not the Spoke protocol: a malformed or truncated frame, an unexpected
 * message, a frame on a connection that never said hello. The connection that carried it is closed; the
 * server keeps serving every other connection.
 */
public class ProtocolException extends SpokeException {

  private static final long serialVersionUID = 1L;

  public ProtocolException(String message) {
    super(message);
  }

  public ProtocolException(String message, Throwable cause) {
    super(message, cause);
  }
}
