// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.protocol.HandshakeCodec.ServerChallenge;
import io.spoke.vertx.protocol.HandshakeCodec.ServerWelcome;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The handshake's messages through the real encoder and decoder, on buffers. */
class HandshakeCodecTest {

  @RegisterExtension
  final WireRoundTrip wire = new WireRoundTrip();

  private Frame roundTrip(long id, boolean reply, Message message) {
    return wire.send(id, reply, message, null);
  }

  @Test
  void challengeCarriesVersionNonceAndWhetherATokenIsRequired() {
    byte[] nonce = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    Frame frame = roundTrip(0, false, HandshakeCodec.challenge(nonce, true));
    assertThat(frame.bodyType()).isEqualTo(Body.Challenge);
    ServerChallenge challenge = HandshakeCodec.readChallenge(frame);
    assertThat(challenge.magic()).isEqualTo(ProtocolVersion.MAGIC);
    assertThat(challenge.version()).isEqualTo(ProtocolVersion.VERSION);
    assertThat(challenge.nonce()).containsExactly(nonce);
    assertThat(challenge.tokenRequired()).isTrue();
  }

  @Test
  void helloCarriesWhoThePeerIsAndLeavesAbsentFieldsNullOrEmpty() {
    byte[] nonce = new byte[16];
    byte[] proof = {9, 8, 7};
    PeerHello hello = HandshakeCodec.readHello(roundTrip(1, false,
      HandshakeCodec.hello(Role.Client, "c1", "w-1", null, 4096, "s-42", nonce, proof)));
    assertThat(hello.role()).isEqualTo(Role.Client);
    assertThat(hello.name()).isEqualTo("c1");
    assertThat(hello.target()).isEqualTo("w-1");
    assertThat(hello.secret()).isNull();
    assertThat(hello.maxFrameSize()).isEqualTo(4096);
    assertThat(hello.session()).isEqualTo("s-42");
    assertThat(hello.nonce()).hasSize(16);
    assertThat(hello.proof()).containsExactly(proof);

    PeerHello bare = HandshakeCodec.readHello(roundTrip(1, false,
      HandshakeCodec.hello(Role.Agent, null, null, "secret", 1024, null, nonce, null)));
    assertThat(bare.name()).isNull();
    assertThat(bare.secret()).isEqualTo("secret");
    assertThat(bare.proof()).isEmpty();
  }

  @Test
  void welcomeCarriesTheServerNameItsLargestFrameAndItsProof() {
    ServerWelcome welcome = HandshakeCodec.readWelcome(roundTrip(1, true, HandshakeCodec.welcome("hub", 1 << 20, new byte[] {5})));
    assertThat(welcome.version()).isEqualTo(ProtocolVersion.VERSION);
    assertThat(welcome.name()).isEqualTo("hub");
    assertThat(welcome.maxFrameSize()).isEqualTo(1 << 20);
    assertThat(welcome.proof()).containsExactly((byte) 5);
    assertThat(HandshakeCodec.readWelcome(roundTrip(2, true, HandshakeCodec.welcome("hub", 1 << 20, null))).proof()).isEmpty();
  }
}
