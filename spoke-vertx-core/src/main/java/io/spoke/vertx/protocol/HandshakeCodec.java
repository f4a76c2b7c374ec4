// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import com.google.flatbuffers.FlatBufferBuilder;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Challenge;
import io.spoke.vertx.protocol.fb.Hello;
import io.spoke.vertx.protocol.fb.Welcome;
import java.nio.ByteBuffer;

/**
 * The handshake's three messages: the server's challenge (its protocol version, a nonce, whether it requires the
 * cluster token), the peer's hello ({@link PeerHello}) and the server's welcome (its name, its largest frame, its
 * proof of the token).
 * <pre>
 *  peer                                  server
 *   |  &lt;-------- Challenge (magic, version, nonce, tokenRequired)
 *   |  Hello (role, name, nonce, proof) -------------------------&gt;   proof checked, acceptor asked
 *   |  &lt;-------- Welcome (version, name, maxFrameSize, proof)   or an error reply, then close
 * </pre>
 */
public final class HandshakeCodec {

  /** What a server's challenge says. */
  public record ServerChallenge(long magic, int version, byte[] nonce, boolean tokenRequired) {
  }

  /** What a server's welcome says; {@code proof} is empty when it has no token. */
  public record ServerWelcome(int version, String name, long maxFrameSize, byte[] proof) {
  }

  private HandshakeCodec() {
  }

  public static Message challenge(byte[] nonce, boolean tokenRequired) {
    return Message.of(Body.Challenge, b -> Challenge.createChallenge(b, ProtocolVersion.MAGIC, ProtocolVersion.VERSION,
      Challenge.createNonceVector(b, nonce), tokenRequired));
  }

  public static ServerChallenge readChallenge(Frame frame) {
    Challenge c = (Challenge) frame.header().body(new Challenge());
    return new ServerChallenge(c.magic(), c.version(), bytes(c.nonceAsByteBuffer()), c.tokenRequired());
  }

  /** A hello of this protocol version; {@code name}, {@code target}, {@code secret}, {@code session} and {@code proof} may be null. */
  public static Message hello(byte role, String name, String target, String secret, int maxFrameSize, String session, byte[] nonce,
                              byte[] proof) {
    return Message.of(Body.Hello, b -> {
      int nameOffset = string(b, name);
      int targetOffset = string(b, target);
      int secretOffset = string(b, secret);
      int sessionOffset = string(b, session);
      int nonceOffset = Hello.createNonceVector(b, nonce);
      int proofOffset = proof == null ? 0 : Hello.createProofVector(b, proof);
      return Hello.createHello(b, ProtocolVersion.MAGIC, ProtocolVersion.VERSION, role, nameOffset, targetOffset, secretOffset,
        maxFrameSize, sessionOffset, nonceOffset, proofOffset);
    });
  }

  public static PeerHello readHello(Frame frame) {
    Hello h = (Hello) frame.header().body(new Hello());
    return new PeerHello(h.magic(), h.version(), h.role(), h.name(), h.target(), h.secret(), h.maxFrameSize(), h.session(),
      bytes(h.nonceAsByteBuffer()), bytes(h.proofAsByteBuffer()));
  }

  /** A welcome from {@code serverName}; {@code proof} is null when the server has no token. */
  public static Message welcome(String serverName, int maxFrameSize, byte[] proof) {
    return Message.of(Body.Welcome, b -> {
      int nameOffset = b.createString(serverName);
      int proofOffset = proof == null ? 0 : Welcome.createProofVector(b, proof);
      return Welcome.createWelcome(b, ProtocolVersion.VERSION, nameOffset, maxFrameSize, proofOffset);
    });
  }

  public static ServerWelcome readWelcome(Frame frame) {
    Welcome w = (Welcome) frame.header().body(new Welcome());
    return new ServerWelcome(w.version(), w.name(), w.maxFrameSize(), bytes(w.proofAsByteBuffer()));
  }

  private static int string(FlatBufferBuilder b, String s) {
    return s == null ? 0 : b.createString(s);
  }

  private static byte[] bytes(ByteBuffer vector) {
    return vector == null ? new byte[0] : Messages.bytes(vector);
  }
}
