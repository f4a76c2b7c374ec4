// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.net.SocketAddress;

/**
 * What a {@link Connection} runs over: a socket ({@link SocketLink}), or an RDMA link of the
 * {@code spoke-vertx-rdma} module. A link moves whole frames (layout in {@link io.spoke.vertx.protocol.Frame})
 * in order, in both directions; the connection above it does the handshake, correlation and timeouts.
 * <p>
 * Threading: every method is called on the connection's context, and the handlers given to {@link #start}
 * run on it.
 */
public interface FrameLink {

  /** Where the connection encodes outgoing frames: memory this link can send without a further copy. */
  ByteBufAllocator alloc();

  /**
   * Whether a frame may reference the caller's large payload {@code payload} instead of copying it (an RDMA
   * link: buffers in its registered memory, which it sends in place; sockets: none, see {@link SocketLink}). The
   * caller must then leave the payload unchanged until the frame is sent.
   */
  boolean attaches(ByteBuf payload);

  /**
   * Installs the handlers: {@code messages} receives each decoded {@link io.spoke.vertx.protocol.Frame}
   * (which it must release) or, once, a {@link io.spoke.vertx.ProtocolException} after which nothing more
   * arrives; {@code closed} runs once when the link is gone, whoever closed it.
   */
  void start(Handler<Object> messages, Handler<Void> closed, Handler<Throwable> failures);

  /** Sends a frame; the link owns {@code frame} from now on. Completes once the frame has left. */
  Future<Void> write(ByteBuf frame);

  /** {@link #write} for callers that do not need to know when the frame has left. */
  void send(ByteBuf frame);

  Future<Void> close();

  /** Whether the queue of frames not yet sent is over its high-water mark. */
  boolean writeQueueFull();

  /**
   * Stops reading from the peer until the frames queued for it have drained below the low-water mark, then
   * reads again and calls {@code resumed}: back-pressure on a peer that sends requests but does not read the
   * answers.
   *
   * @return false when this link cannot hold reads (it has flow control of its own): nothing was done, and
   *         {@code resumed} is never called
   */
  boolean holdReadsUntilDrained(Runnable resumed);

  /** The peer's address, for messages. */
  SocketAddress remoteAddress();

  SocketAddress localAddress();
}
