// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

/**
 * What a peer said in its hello, the first frame it sends: who it is ({@code role}, one of
 * {@link io.spoke.vertx.protocol.fb.Role}, and {@code name}), whom it wants ({@code target}: an actor id, for actor
 * hosts), the one-time {@code secret} an agent gave the actor host it started, the client's {@code session}, the
 * largest frame it accepts, and the handshake's nonce and token proof (empty arrays when absent). Strings are
 * {@code null} when not sent.
 */
public record PeerHello(long magic, int version, byte role, String name, String target, String secret, long maxFrameSize,
                        String session, byte[] nonce, byte[] proof) {
}
