// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks.baseline;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.SocketAddress;

/**
 * The baseline of call benchmarks: a plain Vert.x NetSocket echo server in a process of its own, with the
 * same kind of framing as Spoke's (a 4-byte length, then the bytes). Prints {@code port N} when ready.
 * {@code native} as the first argument uses Netty's native transport when it is available; {@code uds PATH}
 * listens on a Unix domain socket at PATH instead of TCP (native transport only) and prints {@code port 0}.
 */
public final class EchoServer {

  private EchoServer() {
  }

  public static void main(String[] args) {
    boolean uds = args.length > 1 && args[0].equals("uds");
    boolean nativeTransport = uds || args.length > 0 && args[0].equals("native");
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setPreferNativeTransport(nativeTransport));
    NetServer netServer = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0).setTcpNoDelay(!uds))
      .connectHandler(socket -> socket.handler(LengthPrefixed.parser(record -> socket.write(LengthPrefixed.frame(record)))));
    (uds ? netServer.listen(SocketAddress.domainSocketAddress(args[1])) : netServer.listen())
      .onSuccess(server -> System.out.println("port " + server.actualPort() + " " + (vertx.isNativeTransportEnabled() ? "native" : "nio")))
      .onFailure(err -> {
        err.printStackTrace();
        System.exit(1);
      });
  }
}
