// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

/**
 * A value could not be written or read by its serializer: a type with no serializer, a truncated payload,
 * a payload of another type.
 */
public final class SerializationException extends SpokeException {

  private static final long serialVersionUID = 1L;

  public SerializationException(String message) {
    super(message);
  }

  public SerializationException(String message, Throwable cause) {
    super(message, cause);
  }
}
