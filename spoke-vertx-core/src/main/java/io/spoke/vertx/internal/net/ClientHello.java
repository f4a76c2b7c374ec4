// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import io.spoke.vertx.protocol.ProtocolVersion;
import io.spoke.vertx.protocol.fb.Role;
import java.util.Objects;

/**
 * What a connecting peer says in its hello, and how long it waits to be welcomed: its role and name, the cluster token
 * it proves, the largest frame it reads, and for some roles whom it wants ({@link #target}), the spawn secret it holds
 * ({@link #secret}) or the session it continues ({@link #session}). Immutable: each {@code with} method returns a
 * copy. Given to {@link Connection#connect}.
 */
public final class ClientHello {

  /** How long a connect waits for the server's welcome unless told otherwise. */
  public static final long DEFAULT_TIMEOUT_MS = 10_000;

  private final byte role;
  private final String name;
  private final ClusterAuth auth;
  private final int maxFrameSize;
  private final String target;
  private final String secret;
  private final String session;
  private final long timeoutMs;

  private ClientHello(byte role, String name, ClusterAuth auth, int maxFrameSize, String target, String secret, String session,
                      long timeoutMs) {
    this.role = role;
    this.name = name;
    this.auth = auth;
    this.maxFrameSize = maxFrameSize;
    this.target = target;
    this.secret = secret;
    this.session = session;
    this.timeoutMs = timeoutMs;
  }

  /**
   * A hello from a peer of {@code role} ({@link Role}) called {@code name}, proving {@code auth}'s token: frames up to
   * {@link ProtocolVersion#DEFAULT_MAX_FRAME_SIZE}, welcome within {@link #DEFAULT_TIMEOUT_MS}. {@code name} may be
   * null for a peer that does not know it yet (an agent without a node id names itself after the address it
   * connects from).
   */
  public static ClientHello of(byte role, String name, ClusterAuth auth) {
    if (role < 0 || role >= Role.names.length) {
      throw new IllegalArgumentException("role must be one of protocol.fb.Role, got " + role);
    }
    return new ClientHello(role, name, Objects.requireNonNull(auth, "auth"),
      ProtocolVersion.DEFAULT_MAX_FRAME_SIZE, null, null, null, DEFAULT_TIMEOUT_MS);
  }

  /** The largest frame this peer reads (and says so): at least 1 byte. */
  public ClientHello withMaxFrameSize(int maxFrameSize) {
    if (maxFrameSize < 1) {
      throw new IllegalArgumentException("maxFrameSize must be positive, got " + maxFrameSize);
    }
    return new ClientHello(role, name, auth, maxFrameSize, target, secret, session, timeoutMs);
  }

  /** For a connection to an actor host: the actor to call. */
  public ClientHello withTarget(String actorId) {
    return new ClientHello(role, name, auth, maxFrameSize, actorId, secret, session, timeoutMs);
  }

  /** For an actor host connecting back to its agent: the one-time spawn secret. */
  public ClientHello withSecret(String secret) {
    return new ClientHello(role, name, auth, maxFrameSize, target, secret, session, timeoutMs);
  }

  /** For a client connecting to the hub: the session that owns its tickets. */
  public ClientHello withSession(String session) {
    return new ClientHello(role, name, auth, maxFrameSize, target, secret, session, timeoutMs);
  }

  /** How long to wait for the welcome, in ms: at least 1. */
  public ClientHello withTimeout(long timeoutMs) {
    if (timeoutMs < 1) {
      throw new IllegalArgumentException("timeoutMs must be positive, got " + timeoutMs);
    }
    return new ClientHello(role, name, auth, maxFrameSize, target, secret, session, timeoutMs);
  }

  public byte role() {
    return role;
  }

  /** Its name, or null. */
  public String name() {
    return name;
  }

  public ClusterAuth auth() {
    return auth;
  }

  public int maxFrameSize() {
    return maxFrameSize;
  }

  /** The actor asked for, or null. */
  public String target() {
    return target;
  }

  /** The spawn secret, or null. */
  public String secret() {
    return secret;
  }

  /** The session, or null. */
  public String session() {
    return session;
  }

  public long timeoutMs() {
    return timeoutMs;
  }

  @Override
  public String toString() {
    // Never the secret.
    return "ClientHello{" + Role.name(role) + " '" + name + "'" + (target == null ? "" : " to '" + target + "'")
      + (session == null ? "" : ", session " + session) + ", maxFrameSize " + maxFrameSize + ", timeout " + timeoutMs + " ms}";
  }
}
