// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Names an actor type, the name clients pass to {@code spawn}: Spoke's {@code SPOKE_REGISTER_ACTOR}.
 * <p>
 * The agent finds actor classes through {@link java.util.ServiceLoader}: list the class in
 * {@code META-INF/services/io.spoke.vertx.actor.Actor}. A class without this annotation is known by its
 * simple name, and any actor class can also be spawned by its fully qualified name.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface SpokeActor {

  /** The type name, unique in the cluster's classpath. */
  String value();
}
