// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.rdma;

import io.spoke.vertx.rdma.impl.UcxRuntime;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.util.HexFormat;

/**
 * The other process of {@link RdmaEndpointIT}: exposes a region filled with {@code i & 0xff}, prints how to
 * reach it, and echoes every message tagged 1 back to the test's worker with tag 2.
 */
public final class RdmaPeerMain {

  static final int REGION_SIZE = 4 << 20;

  public static void main(String[] args) throws Exception {
    // Netty's epoll transport: this process progresses UCX on its event loop (the test's JVM, on NIO, uses the
    // progress thread), so the endpoint API is exercised in both modes; -Dspoke.rdma.eventLoop=false or
    // -Dspoke.rdma.busyPoll=true keep a progress thread here too.
    Vertx vertx = Vertx.vertx(new io.vertx.core.VertxOptions().setPreferNativeTransport(true));
    Rdma rdma = Rdma.start(vertx).await();
    boolean onLoop = !Boolean.getBoolean("spoke.rdma.busyPoll") && Boolean.parseBoolean(System.getProperty("spoke.rdma.eventLoop", "true"));
    if (UcxRuntime.get().progressedOnEventLoop() != onLoop) {
      throw new IllegalStateException("UCX is not progressed where asked (on the event loop: " + onLoop + "; native transport: "
        + vertx.isNativeTransportEnabled() + ")");
    }
    RdmaEndpoint back = rdma.connect(HexFormat.of().parseHex(args[0])).await();
    Rdma.RemoteRegion region = rdma.region(REGION_SIZE);
    Buffer bytes = region.buffer();
    for (int i = 0; i < REGION_SIZE; i++) {
      bytes.setByte(i, (byte) i);
    }
    System.out.println("READY " + HexFormat.of().formatHex(rdma.workerAddress()) + " " + region.address() + " "
      + HexFormat.of().formatHex(region.packedKey()));
    System.out.flush();
    echo(rdma, back);
  }

  private static void echo(Rdma rdma, RdmaEndpoint back) {
    rdma.receive(1, REGION_SIZE, Buffer::copy)
      .compose(message -> back.send(2, message))
      .onComplete(ar -> echo(rdma, back));
  }
}
