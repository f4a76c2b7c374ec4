// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.task;

import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.service.SpokeService;
import io.vertx.core.Future;

/** A worker's service: an interface, from which Spoke generates the client proxy and the actor's dispatcher. */
@SpokeService
public interface TaskService {

  /** A proxy that calls actor {@code actorId}. */
  static TaskService createProxy(SpokeClient client, String actorId) {
    return new TaskServiceSpokeProxy(client, actorId);
  }

  Future<String> process(ComplexTask task);

  /** What the actor's process sees of its GPUs. */
  Future<String> devices();
}
