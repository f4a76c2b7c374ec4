package io.spoke.vertx.protocol;

import io.spoke.vertx.protocol.fb.Hello;

/**
 * What a peer said of itself in its hello, for a server to decide on it: its {@link io.spoke.vertx.protocol.fb.Role},
 * its name, a client's session id, an actor host's one-time secret (each null when absent). The connection checked the
 * rest (version, proof of the token) before.
 */
public record PeerHello(byte role, String name, String session, String secret) {

  /** The values of a received hello. */
  public static PeerHello of(Hello hello) {
    return new PeerHello(hello.role(), hello.name(), hello.session(), hello.secret());
  }
}
