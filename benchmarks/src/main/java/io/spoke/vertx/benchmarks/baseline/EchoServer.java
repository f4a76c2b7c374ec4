package io.spoke.vertx.benchmarks.baseline;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.parsetools.RecordParser;

/**
 * The baseline of call benchmarks: a plain Vert.x NetSocket echo server in a process of its own, with the
 * same kind of framing as Spoke's (a 4-byte length, then the bytes). Prints {@code port N} when ready.
 * {@code native} as the first argument uses Netty's native transport when it is available.
 */
public final class EchoServer {

  private EchoServer() {
  }

  public static void main(String[] args) {
    boolean nativeTransport = args.length > 0 && args[0].equals("native");
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setPreferNativeTransport(nativeTransport));
    vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0).setTcpNoDelay(true))
      .connectHandler(socket -> {
        RecordParser parser = RecordParser.newFixed(4);
        int[] expected = {-1};
        parser.handler(chunk -> {
          if (expected[0] < 0) {
            expected[0] = chunk.getInt(0);
            parser.fixedSizeMode(expected[0]);
          } else {
            socket.write(Buffer.buffer(4 + chunk.length()).appendInt(chunk.length()).appendBuffer(chunk));
            expected[0] = -1;
            parser.fixedSizeMode(4);
          }
        });
        socket.handler(parser);
      })
      .listen()
      .onSuccess(server -> System.out.println("port " + server.actualPort() + " " + (vertx.isNativeTransportEnabled() ? "native" : "nio")))
      .onFailure(err -> {
        err.printStackTrace();
        System.exit(1);
      });
  }
}
