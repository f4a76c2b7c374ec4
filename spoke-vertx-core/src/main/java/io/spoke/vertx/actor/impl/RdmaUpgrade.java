// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor.impl;

import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.internal.net.Acceptor;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.internal.net.MessageHandler;
import io.spoke.vertx.internal.net.RdmaSupport;
import io.spoke.vertx.internal.net.SocketLink;
import io.spoke.vertx.protocol.ActorCodec;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.spoke.vertx.spi.RdmaProvider.RdmaLink;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.internal.ContextInternal;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The actor host's end of a client's RDMA upgrade: a client asks over its TCP connection, and this opens an RDMA
 * (UCX) link towards the client's worker and serves it like a socket connection, for as long as that TCP connection
 * lives.
 */
final class RdmaUpgrade {

  private static final Logger log = LogManager.getLogger(RdmaUpgrade.class);

  private final String actorId;
  private final Acceptor clients;
  private final Handler<Connection> closed;

  /**
   * @param clients accepts a client's hello on a new link, as on a socket
   * @param closed  what to do when an accepted link's connection closes
   */
  RdmaUpgrade(String actorId, Acceptor clients, Handler<Connection> closed) {
    this.actorId = actorId;
    this.clients = clients;
    this.closed = closed;
  }

  /**
   * A client asks for an RDMA link: start UCX (once per process), open this end towards the client's worker,
   * serve it like a socket connection (the client says hello over it), and answer with this end's address.
   */
  void onRdmaConnect(Connection connection, Frame frame, ContextInternal context, ClusterAuth auth) {
    long id = frame.id();
    ActorCodec.RdmaConnectValue request = ActorCodec.readRdmaConnect(frame);
    byte[] peerAddress = request.workerAddress();
    long peerLink = request.link();
    frame.release();
    if (!(connection.link() instanceof SocketLink) || peerAddress.length == 0) {
      connection.replyError(id, ErrorCode.Protocol, peerAddress.length == 0 ? "RdmaConnect without a worker address"
        : "RdmaConnect must come over the TCP connection");
      return;
    }
    ClientState state = connection.attachment();
    RdmaSupport.start(context).compose(links -> {
      RdmaLink link = links.newLink();
      return link.connect(peerAddress, peerLink, "client " + connection.peerName())
        .map(v -> {
          if (connection.isClosed()) {
            link.close();
            throw new UnavailableException("the client's connection closed during the RDMA handshake");
          }
          Connection.accept(link, RdmaSupport.MAX_FRAME_SIZE, "actor " + actorId, auth, (rdma, hello) -> {
            state.rdma.add(rdma);
            Future<MessageHandler> accepted = clients.accept(rdma, hello);
            rdma.closeHandler(c -> {
              state.rdma.remove(c);
              closed.handle(c);
            });
            return accepted;
          });
          return links.workerAddress();
        })
        .onFailure(err -> link.close())
        .map(localAddress -> {
          connection.reply(id, ActorCodec.rdmaAccept(localAddress, link.id()), null);
          return null;
        });
    }).onFailure(err -> {
      log.info("RDMA link for {} refused: {}", connection.peerName(), err.getMessage());
      connection.replyFailure(id, err);
    });
  }
}
