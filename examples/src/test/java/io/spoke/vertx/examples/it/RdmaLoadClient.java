// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.it;

import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.rdma.Rdma;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.util.concurrent.TimeUnit;

/**
 * A client process for {@link RdmaPeerDeathIT}, there to be killed: moves to UCX with an actor, keeps large calls
 * in flight to it ({@link RdmaLoad}), and prints {@code LOADING <progress mode>} once three have completed.
 * <p>
 * Arguments: hub port, actor id, {@code echo|to-actor|from-actor}, size in bytes, calls in flight, and
 * {@code epoll|nio} (Netty's transport, hence where UCX is progressed; {@code -Dspoke.rdma.busyPoll=true} for
 * a progress thread that never sleeps).
 */
public final class RdmaLoadClient {

  private RdmaLoadClient() {
  }

  public static void main(String[] args) throws Exception {
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport("epoll".equals(args[5])));
    SpokeClient client = SpokeClient.create(vertx, new SpokeClientOptions().setHubPort(Integer.parseInt(args[0])));
    String actorId = args[1];
    client.initRdma(actorId).await(60, TimeUnit.SECONDS);
    int size = Integer.parseInt(args[3]);
    int depth = Integer.parseInt(args[4]);
    RdmaLoad load = switch (args[2]) {
      case "echo" -> RdmaLoad.echo(client, actorId, size, depth);
      case "to-actor" -> RdmaLoad.toActor(client, actorId, size, depth);
      case "from-actor" -> RdmaLoad.fromActor(client, actorId, size, depth);
      default -> throw new IllegalArgumentException("direction: " + args[2]);
    };
    load.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (load.completed() < 3 && load.failures().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(1);
    }
    if (!load.failures().isEmpty() || load.completed() < 3) {
      System.out.println("FAILED " + load.completed() + " calls completed, failures: " + load.failures());
      System.exit(1);
    }
    Rdma ucx = Rdma.start(vertx).await(60, TimeUnit.SECONDS);
    System.out.println("LOADING " + (ucx.progressedOnEventLoop() ? "event-loop" : Boolean.getBoolean("spoke.rdma.busyPoll")
      ? "busy-poll" : "progress-thread"));
    System.out.flush();
    load.settled().await(10, TimeUnit.MINUTES);
    System.out.println("FAILED while loading: " + load.failures());
    System.exit(1);
  }
}
