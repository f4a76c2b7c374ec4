package io.spoke.vertx.examples.stream;

import io.spoke.vertx.actor.Actor;
import io.spoke.vertx.actor.SpokeActor;
import io.spoke.vertx.serialization.Serializers;

/**
 * Streams its output the way an LLM worker streams tokens: each token is pushed to mailbox {@link #TOKENS}
 * of every subscribed client as soon as it is made, and the call completes with the count.
 */
@SpokeActor("TokenStream")
public class TokenStreamActor extends Actor {

  public static final int GENERATE = 0x01;
  public static final int TOKENS = 1;

  @Override
  protected void registerMethods() {
    registerMethod(GENERATE, request -> {
      String prompt = request.readString();
      String[] words = ("Spoke streams every token of a reply to '" + prompt + "' as it is generated").split(" ");
      for (String word : words) {
        actorContext().push(TOKENS, word, Serializers.STRING);
      }
      return words.length;
    });
  }
}
