// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.task;

import io.spoke.vertx.actor.Actor;
import io.spoke.vertx.actor.SpokeActor;
import io.vertx.core.Future;

/** A worker implementing {@link TaskService}: its methods are registered by the generated dispatcher. */
@SpokeActor("TaskActor")
public class TaskActor extends Actor implements TaskService {

  @Override
  public Future<String> process(ComplexTask task) {
    double sum = task.values().stream().mapToDouble(Double::doubleValue).sum();
    return Future.succeededFuture("task " + task.id() + " '" + task.name() + "' sum=" + sum + " on " + actorContext().actorId());
  }

  @Override
  public Future<String> devices() {
    // From the actor's context, not System.getenv(): the same in a warm host and a cold one.
    return Future.succeededFuture("CUDA_VISIBLE_DEVICES=" + actorContext().env().get("CUDA_VISIBLE_DEVICES") + " (reserved GPUs "
      + actorContext().gpuIds() + ")");
  }
}
