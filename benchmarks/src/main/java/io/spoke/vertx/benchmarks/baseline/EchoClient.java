// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks.baseline;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import java.util.ArrayDeque;

/**
 * The client of the echo baseline: one connection to an {@link EchoServer}, with its framing; each
 * {@link #call} completes when its echo comes back (replies come in order, so a queue matches them).
 */
public final class EchoClient {

  /** Held: Vert.x 5 closes a NetClient's connections when the client is garbage collected. */
  private final NetClient client;
  private final NetSocket socket;
  private final Context context;
  private final ArrayDeque<Promise<Buffer>> pending = new ArrayDeque<>();

  private EchoClient(NetClient client, NetSocket socket, Context context) {
    this.client = client;
    this.socket = socket;
    this.context = context;
    socket.closeHandler(v -> {
      for (Promise<Buffer> promise; (promise = pending.poll()) != null; ) {
        promise.tryFail("the echo connection closed");
      }
    });
    socket.handler(LengthPrefixed.parser(record -> pending.poll().complete(record)));
  }

  /** Connects on {@code context}. */
  public static Future<EchoClient> connect(Vertx vertx, Context context, int port) {
    return connect(vertx, context, SocketAddress.inetSocketAddress(port, "127.0.0.1"));
  }

  /** To a TCP address or a Unix domain socket (which needs {@code vertx} on the native transport). */
  public static Future<EchoClient> connect(Vertx vertx, Context context, SocketAddress address) {
    Promise<EchoClient> promise = Promise.promise();
    context.runOnContext(v -> {
      NetClient client = vertx.createNetClient(new NetClientOptions().setTcpNoDelay(address.isInetSocket()));
      client.connect(address).map(socket -> new EchoClient(client, socket, context)).onComplete(promise);
    });
    return promise.future();
  }

  public Context context() {
    return context;
  }

  /** Sends {@code payload} framed; completes with the echo. Call on the client's context. */
  public Future<Buffer> call(Buffer payload) {
    Promise<Buffer> promise = Promise.promise();
    pending.add(promise);
    socket.write(LengthPrefixed.frame(payload));
    return promise.future();
  }

  public Future<Void> close() {
    return client.close();
  }
}
