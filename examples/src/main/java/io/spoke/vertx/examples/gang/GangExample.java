// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.gang;

import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.PlacementStrategy;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.vertx.core.Future;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Spoke V2's gang scheduling: reserve {@code nodes x actorsPerNode} GPU slots all at once, see where they
 * landed, launch one actor per rank, call each, release. Run it against a cluster with
 * {@code main}, or see it in {@code ./spoke demo}.
 */
public final class GangExample {

  private GangExample() {
  }

  /** Allocates, launches, calls every rank, then releases; prints what happens to {@code out}. */
  public static Future<Void> run(SpokeClient client, int nodes, int actorsPerNode, PrintStream out) {
    GangRequest request = new GangRequest()
      .setNodes(nodes)
      .setActorsPerNode(actorsPerNode)
      .setGpus(1)
      .setStrategy(PlacementStrategy.STRICT_PACK);
    return client.gangAllocate(request).compose(allocation -> {
      out.println("   ticket " + allocation.ticketId() + ": " + allocation.worldSize() + " ranks, master "
        + allocation.masterAddr() + ":" + allocation.masterPort());
      for (Slot slot : allocation.slots()) {
        out.println("     rank " + slot.globalRank() + " -> node " + slot.nodeId() + ", local rank " + slot.localRank()
          + ", GPU " + slot.gpuIds() + " (seen by the actor as " + slot.visibleGpuIds() + ")");
      }
      List<Future<ActorHandle>> launches = new ArrayList<>();
      for (Slot slot : allocation.slots()) {
        launches.add(client.launch(allocation.ticketId(), slot.globalRank(), "RankActor", "rank-" + slot.globalRank()));
      }
      return Future.all(launches).compose(launched -> callEveryRank(client, launched.list(), out))
        .eventually(() -> client.release(allocation.ticketId())
          .onSuccess(v -> out.println("   released " + allocation.ticketId() + ": every rank stopped, its GPUs free again")));
    });
  }

  private static Future<Void> callEveryRank(SpokeClient client, List<ActorHandle> ranks, PrintStream out) {
    List<Future<String>> calls = new ArrayList<>();
    for (ActorHandle rank : ranks) {
      calls.add(RankService.createProxy(client, rank.id()).describe());
    }
    return Future.all(calls).map(all -> {
      for (int i = 0; i < calls.size(); i++) {
        out.println("     " + ranks.get(i).id() + " says: " + calls.get(i).result());
      }
      return null;
    });
  }

  /** Against a hub at 127.0.0.1:8888 with two agents of at least 4 GPUs each (simulate them with --gpus 8). */
  public static void main(String[] args) {
    SpokeClient client = SpokeClient.create(new SpokeClientOptions());
    Future<Void> done = run(client, 2, 4, System.out);
    done.onFailure(err -> System.err.println("Failed: " + err.getMessage()))
      .eventually(client::close)
      .onComplete(ar -> System.exit(done.succeeded() ? 0 : 1));
  }
}
