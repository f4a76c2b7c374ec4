// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.gang;

import io.spoke.vertx.actor.Actor;
import io.spoke.vertx.actor.SpokeActor;
import io.spoke.vertx.client.Slot;
import io.vertx.core.Future;

/**
 * One rank of a distributed job. A real one would call {@code torch.distributed.init_process_group("nccl")}
 * (or its Java equivalent) here: everything it needs is already in its environment.
 */
@SpokeActor("RankActor")
public class RankActor extends Actor implements RankService {

  @Override
  public Future<String> describe() {
    Slot slot = actorContext().slot();
    return Future.succeededFuture("rank " + env("RANK") + "/" + env("WORLD_SIZE") + " local " + env("LOCAL_RANK") + "/"
      + env("LOCAL_WORLD_SIZE") + " on " + actorContext().nodeId() + ", CUDA_VISIBLE_DEVICES=" + env("CUDA_VISIBLE_DEVICES")
      + ", MASTER_ADDR=" + env("MASTER_ADDR") + ", MASTER_PORT=" + env("MASTER_PORT")
      + (slot != null && slot.globalRank() == Integer.parseInt(env("RANK")) ? "" : " (slot and environment disagree!)"));
  }

  /** From the actor's context, not System.getenv(): the same whether the rank took a warm host or started cold. */
  private String env(String name) {
    return actorContext().env().getOrDefault(name, "<unset>");
  }
}
