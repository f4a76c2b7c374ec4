// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import io.spoke.vertx.AuthenticationException;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.VersionMismatchException;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.HandshakeCodec;
import io.spoke.vertx.protocol.HandshakeCodec.ServerChallenge;
import io.spoke.vertx.protocol.HandshakeCodec.ServerWelcome;
import io.spoke.vertx.protocol.PeerHello;
import io.spoke.vertx.protocol.ProtocolVersion;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Role;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * One connection's handshake, on either side (see {@link HandshakeCodec} for the messages): the nonces, the token's
 * proofs, the version checks, and the server's decision ({@link Acceptor}). It lives until the connection is welcomed
 * or refused; then the connection forgets it.
 */
final class Handshake {

  private static final Logger log = LogManager.getLogger(Handshake.class);

  /** The request id of the hello, the first request of every connection. */
  static final long HELLO_ID = 1;

  private final Connection connection;
  private final ClusterAuth auth;
  private byte[] challengeNonce;
  private byte[] helloNonce;

  private Handshake(Connection connection, ClusterAuth auth) {
    this.connection = connection;
    this.auth = auth;
  }

  // ------------------------------------------------------------------ client side

  /** Waits for the server's challenge, answers it with {@code hello}, and completes with the welcomed connection. */
  static Future<Connection> client(Connection connection, ClientHello hello) {
    Handshake handshake = new Handshake(connection, hello.auth());
    Promise<Connection> promise = connection.context().promise();
    connection.registerPending(HELLO_ID, promise, (ReplyDecoder<Connection>) handshake::onWelcome, "handshake", hello.timeoutMs());
    connection.messageHandler((conn, frame) -> {
      conn.messageHandler(null);
      try {
        handshake.onChallenge(frame, hello);
      } catch (RuntimeException e) {
        conn.failHandshake(e);
      } finally {
        frame.release();
      }
    });
    connection.startReading();
    return promise.future().onFailure(err -> connection.close());
  }

  private void onChallenge(Frame frame, ClientHello hello) {
    String peerName = connection.peerName();
    if (frame.bodyType() != Body.Challenge) {
      throw new ProtocolException(peerName + " did not open with a challenge: it is not a Spoke server, or one older than protocol version "
        + ProtocolVersion.VERSION);
    }
    ServerChallenge challenge = HandshakeCodec.readChallenge(frame);
    if (challenge.magic() != ProtocolVersion.MAGIC) {
      throw new ProtocolException(peerName + " is not a Spoke server (bad magic 0x" + Long.toHexString(challenge.magic()) + ")");
    }
    if (challenge.version() != ProtocolVersion.VERSION) {
      throw new VersionMismatchException(peerName + " speaks Spoke protocol version " + challenge.version() + ", this process speaks version "
        + ProtocolVersion.VERSION + ": run the same Spoke release on both sides");
    }
    if (challenge.nonce().length != ClusterAuth.NONCE_LENGTH) {
      throw new ProtocolException(peerName + " sent a challenge nonce of " + challenge.nonce().length + " bytes, not " + ClusterAuth.NONCE_LENGTH);
    }
    if (challenge.tokenRequired() && !auth.hasToken()) {
      throw new AuthenticationException(peerName + " requires the cluster token, and this process has none: set " + SecurityOptions.ENV_TOKEN
        + " or a token file (--token-file, SecurityOptions.setTokenFile)");
    }
    challengeNonce = challenge.nonce();
    helloNonce = ClusterAuth.nonce();
    byte[] proof = auth.helloProof(challengeNonce, helloNonce);
    connection.sendHandshake(HELLO_ID, false, HandshakeCodec.hello(hello.role(), hello.name(), hello.target(), hello.secret(),
      hello.maxFrameSize(), hello.session(), helloNonce, proof));
  }

  private Connection onWelcome(Frame frame) {
    String peerName = connection.peerName();
    if (frame.bodyType() != Body.Welcome) {
      throw new ProtocolException("expected a Welcome in answer to Hello from " + peerName);
    }
    ServerWelcome welcome = HandshakeCodec.readWelcome(frame);
    if (welcome.version() != ProtocolVersion.VERSION) {
      throw new VersionMismatchException(peerName + " speaks Spoke protocol version " + welcome.version()
        + ", this process speaks version " + ProtocolVersion.VERSION);
    }
    if (!ClusterAuth.matches(auth.welcomeProof(challengeNonce, helloNonce), welcome.proof())) {
      throw new AuthenticationException(peerName + " did not prove it holds the cluster token (it has none, or another one): "
        + "is it a server of this cluster?");
    }
    connection.welcomed(welcome.maxFrameSize(), welcome.name() == null ? null : welcome.name() + " (" + connection.remoteAddress() + ")", null);
    return connection;
  }

  // ------------------------------------------------------------------ server side

  /**
   * Challenges a connection a server accepted, unless its host is turned away after failed authentications; then
   * waits for its hello (closing it after {@link Connection#HELLO_TIMEOUT_MS}) and welcomes or refuses it.
   */
  static void server(Connection connection, int maxFrameSize, String serverName, ClusterAuth auth, Acceptor acceptor) {
    String host = ClusterAuth.hostKey(connection.remoteAddress());
    long blockedFor = auth.blockedFor(host, System.currentTimeMillis());
    if (blockedFor > 0) {
      connection.startReading();
      log.debug("Turning away {}: blocked for another {} ms after failed authentications", connection.peerName(), blockedFor);
      connection.sendErrorAndClose(0, new AuthenticationException(serverName + " turns " + host + " away for another "
        + (blockedFor + 999) / 1000 + " s after repeated failed authentications: check its cluster token"));
      return;
    }
    Handshake handshake = new Handshake(connection, auth);
    handshake.challengeNonce = ClusterAuth.nonce();
    connection.sendHandshake(0, false, HandshakeCodec.challenge(handshake.challengeNonce, auth.hasToken()));
    ContextInternal context = connection.context();
    long helloTimer = context.setTimer(Connection.HELLO_TIMEOUT_MS, id -> {
      if (!connection.isEstablished() && !connection.isClosed()) {
        log.info("Closing connection from {}: no hello within {} ms", connection.peerName(), Connection.HELLO_TIMEOUT_MS);
        connection.close();
      }
    });
    connection.awaitHello((conn, frame) -> {
      conn.awaitHello(null);
      context.owner().cancelTimer(helloTimer);
      try {
        handshake.onHello(frame, maxFrameSize, serverName, host, acceptor);
      } finally {
        frame.release();
      }
    });
    connection.startReading();
  }

  private void onHello(Frame frame, int maxFrameSize, String serverName, String host, Acceptor acceptor) {
    if (frame.bodyType() != Body.Hello || frame.isReply()) {
      refuse(frame.id(), new ProtocolException("expected a Hello as the first frame, got "
        + Body.name(Math.max(0, Math.min(frame.bodyType(), Body.names.length - 1)))));
      return;
    }
    PeerHello hello = HandshakeCodec.readHello(frame);
    if (hello.magic() != ProtocolVersion.MAGIC) {
      refuse(frame.id(), new ProtocolException("not a Spoke peer (bad magic 0x" + Long.toHexString(hello.magic()) + ")"));
      return;
    }
    if (hello.version() != ProtocolVersion.VERSION) {
      refuse(frame.id(), new VersionMismatchException("peer speaks Spoke protocol version " + hello.version() + ", "
        + serverName + " speaks version " + ProtocolVersion.VERSION + ": run the same Spoke release on both sides"));
      return;
    }
    if (hello.nonce().length != ClusterAuth.NONCE_LENGTH) {
      refuse(frame.id(), new ProtocolException("a Hello needs a nonce of " + ClusterAuth.NONCE_LENGTH + " bytes, got " + hello.nonce().length));
      return;
    }
    helloNonce = hello.nonce();
    if (!ClusterAuth.matches(auth.helloProof(challengeNonce, helloNonce), hello.proof())) {
      boolean none = hello.proof().length == 0;
      long blocked = auth.failed(host, System.currentTimeMillis());
      log.warn("Authentication failed: {} from {} {}{}", Role.name(Math.max(0, Math.min(hello.role(), Role.names.length - 1))),
        connection.peerName(), none ? "has no cluster token" : "proved another cluster token",
        blocked > 0 ? "; turning " + host + " away for " + blocked + " ms" : "");
      connection.sendErrorAndClose(frame.id(), new AuthenticationException(serverName + " refused the connection: "
        + (none ? "it requires the cluster token; set " + SecurityOptions.ENV_TOKEN + " or a token file (--token-file)"
        : "the cluster token differs from this server's")));
      return;
    }
    auth.succeeded(host);
    connection.peerHello(hello);
    long id = frame.id();
    Future<MessageHandler> accepted;
    try {
      accepted = acceptor.accept(connection, hello);
    } catch (RuntimeException e) {
      accepted = Future.failedFuture(e);
    }
    accepted.onComplete(ar -> {
      if (connection.isClosed()) {
        return;
      }
      if (ar.failed()) {
        refuse(id, ar.cause());
        return;
      }
      connection.welcomed(-1, null, ar.result());
      connection.sendHandshake(id, true, HandshakeCodec.welcome(serverName, maxFrameSize, auth.welcomeProof(challengeNonce, helloNonce)));
    });
  }

  /** Sends an error reply to the handshake and closes once it is written. */
  private void refuse(long id, Throwable failure) {
    log.info("Refusing connection from {}: {}", connection.peerName(), failure.getMessage());
    connection.sendErrorAndClose(id, failure);
  }
}
