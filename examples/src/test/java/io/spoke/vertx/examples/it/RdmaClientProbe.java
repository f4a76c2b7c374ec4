// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.it;

import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.serialization.Serializers;
import io.vertx.core.buffer.Buffer;
import java.util.concurrent.TimeUnit;

/**
 * A client process for {@link RdmaIT}: asks for RDMA to an actor, prints what happened ({@code RDMA ok} or
 * {@code REFUSED <exception>: <message>}), then calls the actor and prints the result ({@code CALLED ...}).
 */
public final class RdmaClientProbe {

  private RdmaClientProbe() {
  }

  public static void main(String[] args) throws Exception {
    SpokeClient client = SpokeClient.create(new SpokeClientOptions().setHubPort(Integer.parseInt(args[0])));
    try {
      client.initRdma(args[1]).await(60, TimeUnit.SECONDS);
      System.out.println("RDMA ok");
    } catch (Exception e) {
      System.out.println("REFUSED " + e.getClass().getName() + ": " + e.getMessage());
    }
    String digest = client.call(args[1], RdmaTestActor.DIGEST, Buffer.buffer("still here"), Serializers.BUFFER, Serializers.STRING)
      .await(60, TimeUnit.SECONDS);
    System.out.println("CALLED " + digest);
    client.close().await(60, TimeUnit.SECONDS);
    System.out.println("CLOSED");
    System.exit(0);
  }
}
