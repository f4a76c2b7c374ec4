// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import io.spoke.vertx.protocol.PeerHello;
import io.vertx.core.Future;

/**
 * Decides, on a server, whether a connection that said hello may stay, and how its messages are handled.
 * A failed future is sent to the peer as the handshake's error reply and the connection is closed.
 */
@FunctionalInterface
public interface Acceptor {

  Future<MessageHandler> accept(Connection connection, PeerHello hello);
}
