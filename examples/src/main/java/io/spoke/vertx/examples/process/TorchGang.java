// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.process;

import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.ManagedProcess;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.SpokeClient;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A torch.distributed job as managed processes: a gang of {@code nodes x perNode} ranks, each a Python process that
 * joins the process group through the {@code env://} rendezvous Spoke sets up (RANK, WORLD_SIZE, MASTER_ADDR,
 * MASTER_PORT) and all-reduces its rank. What {@code spoke run} does, through the Java API.
 */
public final class TorchGang {

  /** Each rank adds rank + 1: the sum every rank prints is n (n + 1) / 2. */
  static final String SCRIPT = String.join("\n",
    "import torch, torch.distributed as dist",
    "dist.init_process_group('gloo', init_method='env://')",
    "t = torch.tensor([float(dist.get_rank() + 1)])",
    "dist.all_reduce(t)",
    "print('rank', dist.get_rank(), 'sum', t.item(), flush=True)",
    "dist.destroy_process_group()");

  private TorchGang() {
  }

  /** Runs the job with {@code python} (one with PyTorch); completes with what each rank printed, by rank. */
  public static Future<List<String>> run(SpokeClient client, int nodes, int perNode, String python) {
    return client.gangAllocate(new GangRequest().setNodes(nodes).setActorsPerNode(perNode)).compose(allocation -> {
      List<Future<ManagedProcess>> ranks = new ArrayList<>();
      for (int rank = 0; rank < allocation.worldSize(); rank++) {
        ranks.add(client.launchProcess(allocation.ticketId(), rank, "torch-rank-" + rank,
          new ProcessSpec(List.of(python, "-c", SCRIPT))));
      }
      return Future.all(ranks)
        .compose(launched -> {
          List<Future<String>> outputs = new ArrayList<>();
          for (ManagedProcess rank : launched.<ManagedProcess>list()) {
            outputs.add(rank.exit().compose(exit -> output(client, exit)));
          }
          return Future.all(outputs).map(done -> done.<String>list());
        })
        .eventually(() -> client.release(allocation.ticketId()));
    });
  }

  private static Future<String> output(SpokeClient client, ActorInfo exit) {
    if (exit.exitCode() != 0) {
      return Future.failedFuture(exit.id() + " " + exit.reason() + "; its log: " + exit.logFile());
    }
    return client.readLog(exit.id(), 0, 64 * 1024).map(log -> log.data().toString(StandardCharsets.UTF_8).lines()
      .filter(line -> line.startsWith("rank ")).findFirst().orElse(""));
  }
}
