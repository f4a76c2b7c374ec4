// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.service;

import io.spoke.vertx.actor.MethodHandler;
import io.spoke.vertx.serialization.Serializer;

/**
 * Where an actor's methods are registered: what generated dispatchers ({@code FooSpokeDispatcher}) call.
 * Not for application use; actors register methods with {@code Actor.registerMethod}.
 */
public interface ServiceRegistry {

  /**
   * A method with a result, written by {@code resultSerializer} (the handler returns the value or a
   * {@code Future} of it).
   *
   * @param name the method's name, for error messages
   * @throws IllegalArgumentException if {@code id} is taken
   */
  void method(int id, String name, MethodHandler handler, Serializer<?> resultSerializer);

  /** A fire-and-forget method: called without a reply; a failure is only logged. */
  void oneWay(int id, String name, MethodHandler handler);

  /** A method whose result is a stream of items, each written by {@code itemSerializer}. */
  <T> void stream(int id, String name, StreamHandler<T> handler, Serializer<T> itemSerializer);
}
