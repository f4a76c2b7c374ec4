// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.stream;

import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.service.SpokeService;
import io.vertx.core.Future;
import io.vertx.core.streams.ReadStream;

/** An LLM worker's service: a reply streamed token by token, or broadcast to every client of a mailbox. */
@SpokeService
public interface LlmService {

  /** The mailbox {@link #broadcast} pushes to. */
  int TOKENS = 1;

  static LlmService createProxy(SpokeClient client, String actorId) {
    return new LlmServiceSpokeProxy(client, actorId);
  }

  /** The reply to {@code prompt}, token by token, as fast as the caller reads (back-pressure). */
  ReadStream<String> generate(String prompt);

  /** Pushes the reply's tokens to every client subscribed to mailbox {@link #TOKENS}; completes with their number. */
  Future<Integer> broadcast(String prompt);
}
