// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.hello;

import io.spoke.vertx.actor.Actor;
import io.spoke.vertx.actor.MessageView;
import io.spoke.vertx.actor.SpokeActor;

/**
 * Spoke's first example, method for method: an actor with one remote method, registered under id 0x01.
 */
@SpokeActor("MyActor")
public class MyActor extends Actor {

  public static final int HELLO = 0x01;

  String handleHello(MessageView msg) {
    return "Hello from Spoke!";
  }

  @Override
  protected void registerMethods() {
    registerMethod(HELLO, this::handleHello);
  }
}
