// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.spoke.vertx.protocol.FrameDecoder;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.VertxConnection;

/** A {@link FrameLink} over a Vert.x TCP socket: frames are split by a {@link FrameDecoder} in the Netty pipeline. */
public final class SocketLink implements FrameLink {

  private final NetSocketInternal socket;
  /**
   * The socket's implementation, when it is Vert.x's: a one-way frame goes through its write queue (in order with
   * every other write) without the promise and channel promise that {@code writeMessage} makes per frame.
   */
  private final VertxConnection connection;

  public SocketLink(NetSocket socket, int maxFrameSize) {
    this.socket = (NetSocketInternal) socket;
    this.connection = socket instanceof VertxConnection ? (VertxConnection) socket : null;
    this.socket.channelHandlerContext().pipeline().addBefore("handler", FrameDecoder.NAME, new FrameDecoder(maxFrameSize));
  }

  @Override
  public ByteBufAllocator alloc() {
    return socket.channelHandlerContext().alloc();
  }

  @Override
  public boolean attaches(ByteBuf payload) {
    // Nothing: a socket writes from native memory, and Netty copies a frame with a heap part into a direct buffer
    // before writing it; for a composite frame it first merges the parts into a new heap array, which made a 1 MiB
    // call cost two copies of its payload and 1 MiB of garbage. Copying the payload into the frame's direct buffer
    // is the one copy the socket needs. Views of pooled receive buffers (an actor echoing its request) could not be
    // attached anyway: their memory goes back to the pool when the request is released, possibly before the write.
    return false;
  }

  @Override
  public void start(Handler<Object> messages, Handler<Void> closed, Handler<Throwable> failures) {
    socket.messageHandler(messages);
    socket.closeHandler(closed);
    socket.exceptionHandler(failures);
  }

  @Override
  public Future<Void> write(ByteBuf frame) {
    return socket.writeMessage(frame);
  }

  @Override
  public void send(ByteBuf frame) {
    if (connection != null) {
      connection.writeToChannel(frame, (Promise<Void>) null);
    } else {
      socket.writeMessage(frame);
    }
  }

  @Override
  public Future<Void> close() {
    return socket.close();
  }

  @Override
  public boolean writeQueueFull() {
    return socket.writeQueueFull();
  }

  @Override
  public boolean holdReadsUntilDrained(Runnable resumed) {
    socket.pause();
    socket.drainHandler(v -> {
      socket.drainHandler(null);
      socket.resume();
      resumed.run();
    });
    return true;
  }

  @Override
  public SocketAddress remoteAddress() {
    return socket.remoteAddress();
  }

  @Override
  public SocketAddress localAddress() {
    return socket.localAddress();
  }
}
