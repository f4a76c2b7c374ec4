// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal;

/**
 * The index of a jar's {@code @SpokeActor} classes: written by Spoke's code generator, read by actor hosts to find an
 * actor type by its name.
 */
public final class ActorIndex {

  /** The index's resource: one class name a line. */
  public static final String PATH = "META-INF/spoke/actors";

  private ActorIndex() {
  }
}
