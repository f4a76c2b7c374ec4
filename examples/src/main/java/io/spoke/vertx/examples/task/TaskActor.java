package io.spoke.vertx.examples.task;

import io.spoke.vertx.actor.Actor;
import io.spoke.vertx.actor.SpokeActor;
import io.spoke.vertx.serialization.Serializers;
import io.vertx.core.Future;
import java.util.Arrays;

/**
 * A worker that takes a structured request (Spoke's method 0x60) and reports the GPUs it was given.
 */
@SpokeActor("TaskActor")
public class TaskActor extends Actor {

  public static final int PROCESS = 0x60;
  public static final int DEVICES = 0x61;

  @Override
  protected void registerMethods() {
    registerMethod(PROCESS, ComplexTaskSerializer.INSTANCE, Serializers.STRING, task -> Future.succeededFuture(
      "task " + task.id() + " '" + task.name() + "' sum=" + Arrays.stream(task.values()).sum() + " on " + actorContext().actorId()));
    registerMethod(DEVICES, request -> "CUDA_VISIBLE_DEVICES=" + System.getenv("CUDA_VISIBLE_DEVICES")
      + " (reserved GPUs " + actorContext().gpuIds() + ")");
  }
}
