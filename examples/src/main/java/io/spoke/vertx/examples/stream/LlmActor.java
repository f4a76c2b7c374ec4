// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.stream;

import io.spoke.vertx.actor.Actor;
import io.spoke.vertx.actor.SpokeActor;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.service.StreamSource;
import io.vertx.core.Future;
import io.vertx.core.streams.ReadStream;

/**
 * Streams its output the way an LLM worker streams tokens. {@link #generate} produces into a
 * {@link StreamSource} and stops when the caller stops reading; {@link #broadcast} pushes to a mailbox.
 */
@SpokeActor("LlmActor")
public class LlmActor extends Actor implements LlmService {

  private static String[] reply(String prompt) {
    return ("Spoke streams every token of a reply to '" + prompt + "' as it is generated").split(" ");
  }

  @Override
  public ReadStream<String> generate(String prompt) {
    StreamSource<String> tokens = StreamSource.create();
    String[] words = reply(prompt);
    int[] next = {0};
    Runnable produce = new Runnable() {
      @Override
      public void run() {
        while (next[0] < words.length) {
          if (!tokens.write(words[next[0]++])) {
            tokens.drainHandler(v -> run());
            return;
          }
        }
        tokens.end();
      }
    };
    produce.run();
    return tokens;
  }

  @Override
  public Future<Integer> broadcast(String prompt) {
    String[] words = reply(prompt);
    for (String word : words) {
      actorContext().push(TOKENS, word, Serializers.STRING);
    }
    return Future.succeededFuture(words.length);
  }
}
