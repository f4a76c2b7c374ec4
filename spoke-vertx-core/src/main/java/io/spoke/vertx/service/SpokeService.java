// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.service;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks an interface as a Spoke actor service: Spoke's code generator ({@code spoke-vertx-codegen}, an
 * annotation processor) writes, for interface {@code Foo}, a client proxy {@code FooSpokeProxy} that
 * implements it by calling an actor, and a dispatcher {@code FooSpokeDispatcher} that registers every method
 * on an actor implementing it.
 * <pre>
 * {@literal @}SpokeService
 * public interface Translator {
 *   static Translator createProxy(SpokeClient client, String actorId) {
 *     return new TranslatorSpokeProxy(client, actorId);
 *   }
 *   Future&lt;String&gt; translate(String text, Language to);   // a call
 *   ReadStream&lt;String&gt; tokens(String prompt);               // a stream, with back-pressure
 *   void log(String line);                                   // fire and forget
 * }
 * </pre>
 * Rules, checked at compile time with an error naming the method: methods return {@code Future<T>},
 * {@code ReadStream<T>} or {@code void}; no overloads; parameter and result types are primitives and their
 * boxes, {@code String}, {@code byte[]}, Vert.x {@code Buffer}, {@code ByteBuffer}, FlatBuffers tables, enums,
 * {@code JsonObject}, {@code JsonArray}, records of supported types, and {@code List}, {@code Set} and
 * {@code Map} of these. Method ids come from the signature ({@link MethodIds}) unless set with
 * {@link MethodId}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface SpokeService {
}
