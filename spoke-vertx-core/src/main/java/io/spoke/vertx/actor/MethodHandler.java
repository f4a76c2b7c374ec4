// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor;

/**
 * A remote method of an actor, registered under a numeric id with
 * {@link Actor#registerMethod(int, MethodHandler)}: Spoke's {@code registerMethod(id, lambda)}.
 * <p>
 * Runs on the actor's event loop (or on a worker thread, when registered with
 * {@link Actor#registerBlockingMethod}). It returns the result, or a {@link io.vertx.core.Future} of it;
 * the result is serialized by its runtime class ({@link io.spoke.vertx.serialization.Serializers#forValue}),
 * and {@code null} means an empty reply. An exception thrown, or a failed future, reaches the caller as
 * {@link io.spoke.vertx.RemoteActorException} with the exception's class and message.
 */
@FunctionalInterface
public interface MethodHandler {

  Object handle(MessageView request) throws Exception;
}
