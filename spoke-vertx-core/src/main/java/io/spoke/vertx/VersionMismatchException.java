// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * The peer speaks another version of the Spoke protocol (or is not Spoke at all): upgrade the older side.
 */
public final class VersionMismatchException extends ProtocolException {

  private static final long serialVersionUID = 1L;

  public VersionMismatchException(String message) {
    super(message);
  }
}
