// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.service;

/**
 * Registers the methods of a {@link SpokeService} interface on an actor that implements it: implemented by
 * the generated {@code FooSpokeDispatcher} classes. An actor that implements service interfaces and does
 * not override {@code registerMethods} gets theirs registered at start.
 *
 * @param <T> the service interface
 */
public interface ServiceDispatcher<T> {

  void register(ServiceRegistry registry, T implementation);
}
