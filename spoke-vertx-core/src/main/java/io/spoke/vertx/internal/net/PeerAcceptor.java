package io.spoke.vertx.internal.net;

import io.spoke.vertx.protocol.PeerHello;
import io.vertx.core.Future;

/**
 * An {@link Acceptor} that reads the peer's hello as values ({@link PeerHello}), not as the FlatBuffers table: what
 * the hub and the agent decide on.
 */
@FunctionalInterface
public interface PeerAcceptor {

  Future<MessageHandler> accept(Connection connection, PeerHello hello);

  /** {@code acceptor} as the {@link Acceptor} that {@link Connection#accept} takes. */
  static Acceptor reading(PeerAcceptor acceptor) {
    return (connection, hello) -> acceptor.accept(connection, PeerHello.of(hello));
  }
}
