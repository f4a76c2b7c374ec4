// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.spi;

import io.spoke.vertx.RdmaUnavailableException;

/**
 * The RDMA data plane, as core sees it: implemented by the {@code spoke-vertx-rdma} module and found with
 * {@link java.util.ServiceLoader}, so that core does not depend on UCX. Clients and actor hosts use it
 * through {@code SpokeClient.initRdma}; applications do not call it.
 */
public interface RdmaProvider {

  /**
   * Starts this process's UCX context and worker on first call, and returns them; blocks for the few
   * milliseconds UCX needs, so call it off the event loop.
   *
   * @param eventLoop the event loop of the context that first needs RDMA: where the transport may progress
   *                  UCX itself (with Netty's epoll transport), so that frames for it need no thread hop
   * @throws RdmaUnavailableException when UCX cannot be loaded or started, saying what to install
   */
  RdmaLinks start(io.netty.channel.EventLoop eventLoop);

  /** The transport's links: one per client-actor pair, carrying Spoke frames over UCX. */
  interface RdmaLinks {

    /** This process's UCX worker address, for a peer to connect to. */
    byte[] workerAddress();

    /**
     * A new link whose frames will be delivered on the caller's Vert.x context; frames from the peer that
     * carry {@link RdmaLink#id()} arrive on it once it is {@linkplain RdmaLink#connect connected}.
     */
    RdmaLink newLink();
  }

  /** One end of a link: a {@link io.spoke.vertx.internal.net.FrameLink} over a UCX endpoint. */
  interface RdmaLink extends io.spoke.vertx.internal.net.FrameLink {

    /** The id the peer puts on frames for this end. */
    long id();

    /**
     * Opens the UCX endpoint to the peer's worker, whose end of the link is {@code peerLinkId}; completes on
     * the link's context. {@code peerName} names the peer in messages.
     */
    io.vertx.core.Future<Void> connect(byte[] peerWorkerAddress, long peerLinkId, String peerName);
  }
}
