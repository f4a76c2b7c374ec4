// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.hello;

import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.serialization.Serializers;
import io.vertx.core.Future;

/**
 * Spawn an actor and call it, as in Spoke's usage example: against a hub at 127.0.0.1:8888 (start one with
 * {@code ./spoke hub} and an agent with {@code ./spoke agent --hub 127.0.0.1:8888}).
 */
public final class HelloClient {

  private HelloClient() {
  }

  public static void main(String[] args) {
    SpokeClient client = SpokeClient.create(new SpokeClientOptions().setHubHost("127.0.0.1").setHubPort(8888));

    Future<String> greeting = client.spawn("MyActor", "actor_instance_1")
      .compose(actor -> actor.call(MyActor.HELLO, null, Serializers.VOID, Serializers.STRING)
        .eventually(actor::stop));

    greeting
      .onSuccess(result -> System.out.println("Result: " + result))
      .onFailure(err -> System.err.println("Failed: " + err.getMessage()))
      .eventually(client::close)
      .onComplete(ar -> System.exit(greeting.succeeded() ? 0 : 1));
  }

  /** The same, as a method that composes with others. */
  static Future<String> hello(SpokeClient client, String actorId) {
    return client.spawn("MyActor", actorId).compose((ActorHandle actor) ->
      actor.call(MyActor.HELLO, null, Serializers.VOID, Serializers.STRING));
  }
}
