// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.gang;

import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.service.SpokeService;
import io.vertx.core.Future;

/** One rank of a distributed job, as a service. */
@SpokeService
public interface RankService {

  static RankService createProxy(SpokeClient client, String actorId) {
    return new RankServiceSpokeProxy(client, actorId);
  }

  /** Its rank, node, GPUs and rendezvous, as its environment says. */
  Future<String> describe();
}
