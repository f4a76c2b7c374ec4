// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import io.spoke.vertx.actor.Actor;
import io.spoke.vertx.actor.SpokeActor;

/** The actor the harness calls: echoes its request (read in place, written once into the reply). */
@SpokeActor("BenchEcho")
public class BenchActor extends Actor {

  public static final int ECHO = 1;
  /** Takes the request and answers nothing (sent one-way): the receiving end of a bandwidth run. */
  public static final int SINK = 2;

  @Override
  protected void registerMethods() {
    registerMethod(ECHO, request -> request.buffer());
    registerMethod(SINK, request -> null);
  }
}
