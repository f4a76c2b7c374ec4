// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client.impl;

import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.internal.net.RdmaSupport;
import io.spoke.vertx.protocol.ActorCodec;
import io.spoke.vertx.spi.RdmaProvider.RdmaLink;
import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;
import java.util.function.BooleanSupplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Moves an actor's calls from its TCP connection onto an RDMA (UCX) link opened through that connection
 * (RdmaConnect, answered by RdmaAccept, then the usual hello over the link). Confined to the client's context.
 */
final class RdmaUpgrade {

  private static final Logger log = LogManager.getLogger(RdmaUpgrade.class);

  private final ContextInternal context;
  private final ClientHello hello;
  private final long requestTimeout;
  private final BooleanSupplier closed;

  /** @param closed whether the client is closed (read on its context) */
  RdmaUpgrade(ContextInternal context, ClientHello hello, long requestTimeout, BooleanSupplier closed) {
    this.context = context;
    this.hello = hello;
    this.requestTimeout = requestTimeout;
    this.closed = closed;
  }

  /** Gives {@code channel}, whose calls go over {@code tcp}, an RDMA link, unless it has one or is opening one. */
  Future<Void> start(ActorChannel channel, String actorId, Connection tcp) {
    if (channel == null || channel.connection != tcp) {
      return Future.failedFuture(new UnavailableException("the connection to actor '" + actorId + "' closed"));
    }
    if (channel.tcp != null) {
      return Future.succeededFuture();
    }
    if (channel.rdmaStarting == null) {
      channel.rdmaStarting = open(channel, tcp).onComplete(ar -> channel.rdmaStarting = null);
    }
    return channel.rdmaStarting;
  }

  private Future<Void> open(ActorChannel channel, Connection tcp) {
    String actorId = channel.actorId;
    return RdmaSupport.start(context).compose(links -> {
      RdmaLink link = links.newLink();
      return tcp.request(ActorCodec.rdmaConnect(links.workerAddress(), link.id()), null, requestTimeout,
          "RDMA handshake with actor '" + actorId + "'", ActorCodec::readRdmaAccept)
        .compose(peer -> link.connect(peer.workerAddress(), peer.link(), "actor '" + actorId + "'"))
        .compose(v -> Connection.connect(link, "actor '" + actorId + "' over UCX",
          hello.withMaxFrameSize(RdmaSupport.MAX_FRAME_SIZE).withTarget(actorId)))
        .onFailure(err -> link.close())
        .map(rdma -> {
          if (closed.getAsBoolean() || channel.connection != tcp) {
            rdma.close();
            throw new UnavailableException("the connection to actor '" + actorId + "' closed during the RDMA handshake");
          }
          channel.tcp = tcp;
          channel.connection = rdma;
          channel.listen(rdma);
          log.debug("Calls to actor {} go over UCX from now on", actorId);
          return (Void) null;
        });
    });
  }
}
