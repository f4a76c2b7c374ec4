// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.service;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Sets the numeric id of a {@link SpokeService} method, instead of the one derived from its signature: to
 * call an actor whose methods were registered by hand ({@code registerMethod(0x60, ...)}), or to keep an id
 * when a method is renamed. Two methods of one service with the same id are a compile error.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface MethodId {

  int value();
}
