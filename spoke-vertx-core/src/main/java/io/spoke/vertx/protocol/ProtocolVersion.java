// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

/**
 * Constants that two peers must agree on: checked in the {@code Hello}/{@code Welcome} handshake that opens
 * every connection.
 */
public final class ProtocolVersion {

  /** "SPKE": first field of every Hello, so that a stray client of another protocol is told so. */
  public static final int MAGIC = 0x53504B45;

  /** Bumped on any incompatible change of the schema or the framing. */
  public static final int VERSION = 3;

  /** Default largest frame a peer accepts, payload included: 64 MiB. */
  public static final int DEFAULT_MAX_FRAME_SIZE = 64 * 1024 * 1024;

  /** Smallest value {@code maxFrameSize} may be set to: room for any control message. */
  public static final int MIN_MAX_FRAME_SIZE = 64 * 1024;

  private ProtocolVersion() {
  }
}
