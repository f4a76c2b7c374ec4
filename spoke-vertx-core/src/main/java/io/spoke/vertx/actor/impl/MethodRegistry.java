// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor.impl;

import io.spoke.vertx.actor.MethodHandler;
import io.spoke.vertx.serialization.Serializer;
import io.vertx.core.Context;

/**
 * How {@link io.spoke.vertx.actor.Actor} registers its methods with the runtime that hosts it.
 */
public interface MethodRegistry {

  /** The actor is starting on {@code context}, its event loop. */
  void starting(Context context);

  void register(int methodId, MethodHandler handler, boolean blocking);

  void register(int methodId, MethodHandler handler, Serializer<?> responseSerializer);
}
