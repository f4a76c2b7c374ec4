// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks.baseline;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetServerOptions;

/**
 * The baseline of spawn_cold: a JVM on the same class path that creates a Vert.x instance, opens a server
 * socket and prints a line. The harness times it from process start to that line. With {@code jvm} as its
 * argument it prints the line at once: the cost of the JVM alone.
 */
public final class StartProbe {

  private StartProbe() {
  }

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("jvm")) {
      System.out.println("ready");
      System.out.flush();
      System.exit(0);
    }
    Vertx vertx = Vertx.vertx();
    vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0)).connectHandler(socket -> socket.close()).listen()
      .onSuccess(server -> {
        System.out.println("ready " + server.actualPort());
        System.out.flush();
        System.exit(0);
      });
  }
}
