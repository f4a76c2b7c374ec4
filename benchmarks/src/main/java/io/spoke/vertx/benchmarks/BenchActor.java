package io.spoke.vertx.benchmarks;

import io.spoke.vertx.actor.Actor;
import io.spoke.vertx.actor.SpokeActor;

/** The actor the harness calls: echoes its request (read in place, written once into the reply). */
@SpokeActor("BenchEcho")
public class BenchActor extends Actor {

  public static final int ECHO = 1;

  @Override
  protected void registerMethods() {
    registerMethod(ECHO, request -> request.buffer());
  }
}
