// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.rdma;

import io.spoke.vertx.RdmaUnavailableException;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.examples.task.ComplexTask;
import io.spoke.vertx.examples.task.TaskService;
import io.vertx.core.Future;
import java.io.PrintStream;
import java.util.List;

/**
 * Spoke's RDMA example, step for step: spawn an actor, initialise RDMA for it, and call it with a structured
 * request, which the generated codec writes straight into registered memory and the actor reads in place.
 * Against a hub at 127.0.0.1:8888 ({@code ./spoke hub} and {@code ./spoke agent --hub 127.0.0.1:8888}); UCX
 * uses InfiniBand or RoCE where there is a NIC, shared memory or TCP otherwise.
 */
public final class RdmaExample {

  private RdmaExample() {
  }

  public static void main(String[] args) {
    SpokeClient client = SpokeClient.create(new SpokeClientOptions().setHubHost("127.0.0.1").setHubPort(8888));
    Future<String> result = client.spawn("TaskActor", "actor_instance_1")
      .compose(actor -> run(client, "actor_instance_1", System.out).eventually(actor::stop));
    result
      .onSuccess(text -> System.out.println("Result: " + text))
      .onFailure(err -> System.err.println("Failed: " + err.getMessage()))
      .eventually(client::close)
      .onComplete(ar -> System.exit(result.succeeded() ? 0 : 1));
  }

  /**
   * Initialises RDMA to a spawned TaskActor and calls it. Where this process or the actor's has no UCX, says so
   * and calls over TCP, as Spoke's client does when initRDMA fails.
   */
  public static Future<String> run(SpokeClient client, String actorId, PrintStream out) {
    TaskService tasks = TaskService.createProxy(client, actorId);
    ComplexTask task = new ComplexTask(666, "ZeroCopyCheck", List.of(1.0, 2.0));
    return client.initRdma(actorId)
      .map(v -> {
        out.println("RDMA initialised for " + actorId + ": calls to it now go over UCX");
        return v;
      })
      .recover(err -> {
        if (!(err instanceof RdmaUnavailableException)) {
          return Future.failedFuture(err);
        }
        out.println("No RDMA (" + err.getMessage() + "); calling over TCP");
        return Future.succeededFuture();
      })
      // The call uses the RDMA path automatically once it is initialised.
      .compose(v -> tasks.process(task));
  }
}
