// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client.impl;

import io.spoke.vertx.ActorNotFoundException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.internal.LocalHost;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.Connection;
import io.vertx.core.Future;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.SocketAddress;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Opens a connection to an actor's host at a resolved endpoint and says hello as the client: over the actor's Unix
 * socket when it runs on this host (and TLS is not required), over TCP otherwise or when that socket cannot be used.
 */
final class ActorConnector {

  private static final Logger log = LogManager.getLogger(ActorConnector.class);

  private final SpokeClientOptions options;
  private final NetClient netClient;
  /** The client's hello, to which each connect adds the actor it wants. */
  private final ClientHello hello;

  ActorConnector(SpokeClientOptions options, NetClient netClient, ClientHello hello) {
    this.options = options;
    this.netClient = netClient;
    this.hello = hello;
  }

  /** Connects to {@code info}'s actor. */
  Future<Connection> connect(ActorInfo info) {
    SocketAddress address = SocketAddress.inetSocketAddress(info.port(), info.host());
    if (!usesLocalSocket(info)) {
      return connectTcp(info, address);
    }
    // The same handshake over the actor's Unix socket. A socket that cannot be reached (gone, in another container's
    // file system, a transport without Unix sockets) or that another actor holds only costs the attempt, and the
    // call goes over TCP; a refused token or protocol version would be refused over TCP too, and is final.
    SocketAddress local = SocketAddress.domainSocketAddress(info.localSocket());
    return open(info, local)
      .recover(err -> {
        if (!(err instanceof UnavailableException) && !(err instanceof ActorNotFoundException)) {
          return Future.failedFuture(err);
        }
        log.debug("Cannot use the Unix socket {} of actor '{}', connecting over TCP: {}", local, info.id(),
          SpokeClientImpl.rootMessage(err));
        return connectTcp(info, address);
      });
  }

  private Future<Connection> connectTcp(ActorInfo info, SocketAddress address) {
    return open(info, address)
      .recover(err -> Future.failedFuture(err instanceof UnavailableException
        ? new UnavailableException("cannot connect to actor '" + info.id() + "' at " + address + ": "
          + SpokeClientImpl.rootMessage(err), err) : err));
  }

  /** Connects to {@code info}'s actor at {@code address} and says hello as this client. */
  private Future<Connection> open(ActorInfo info, SocketAddress address) {
    return Connection.connect(netClient, address, hello.withTarget(info.id()));
  }

  /** Whether to call {@code info}'s actor through its Unix socket: it has one, on this host, and TLS is not required. */
  private boolean usesLocalSocket(ActorInfo info) {
    return options.isLocalSockets() && !options.getSecurity().isTls() && info.localSocket() != null && info.hostId() != null
      && info.hostId().equals(LocalHost.id());
  }
}
