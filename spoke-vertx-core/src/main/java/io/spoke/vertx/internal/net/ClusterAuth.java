// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import io.spoke.vertx.SecurityOptions;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The cluster token's side of the handshake: the server sends a fresh nonce ({@code Challenge}), the
 * connecting side answers with HMAC-SHA256(token, "spoke-hello" | server nonce | its own nonce), and the server
 * proves it holds the token too with HMAC-SHA256(token, "spoke-welcome" | both nonces). The token never
 * crosses the wire, and a proof is worthless for any other connection.
 * <p>
 * A server's instance also counts failed proofs per remote address: after {@link #MAX_FAILURES} within
 * {@link #FAILURE_WINDOW_MS}, that address is turned away before the handshake for {@link #blockMs()} ms
 * (doubling while it keeps failing, up to {@link #MAX_BLOCK_MS}). Thread-safe.
 */
public final class ClusterAuth {

  /** No token: proves nothing, asks for nothing. */
  public static final ClusterAuth NONE = new ClusterAuth(null);

  public static final int NONCE_LENGTH = 32;
  static final int MAX_FAILURES = 5;
  static final long FAILURE_WINDOW_MS = 60_000;
  static final long MAX_BLOCK_MS = 300_000;
  private static final int MAX_TRACKED_ADDRESSES = 10_000;
  private static final byte[] HELLO_LABEL = "spoke-hello".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] WELCOME_LABEL = "spoke-welcome".getBytes(StandardCharsets.US_ASCII);
  private static final SecureRandom RANDOM = new SecureRandom();

  private final SecretKeySpec key;
  private final long blockMs = Long.getLong("spoke.auth.blockMs", 10_000);
  private final Map<String, Failures> failures = new ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.LongAdder refused = new java.util.concurrent.atomic.LongAdder();

  private ClusterAuth(byte[] token) {
    this.key = token == null ? null : new SecretKeySpec(token, "HmacSHA256");
  }

  /** For a token ({@code null}: none). A server should have an instance of its own (it counts failures). */
  public static ClusterAuth of(byte[] token) {
    return new ClusterAuth(token);
  }

  /**
   * The instance of a server that will listen on {@code host}, with {@code token} (from
   * {@link SecurityOptions#resolveToken()}), after applying the rule that only loopback may be served without
   * a token, unless {@code insecure} is set (then said in {@code log}).
   *
   * @param server what is starting, for messages ("the hub")
   * @throws IllegalArgumentException when the server would be exposed without a token
   */
  public static ClusterAuth forServer(String server, String host, byte[] token, boolean insecure, org.apache.logging.log4j.Logger log) {
    if (token == null && !isLoopback(host)) {
      if (!insecure) {
        throw new IllegalArgumentException(server + " would serve " + host + " without a cluster token, so anyone who reaches it could "
          + "launch processes: set " + SecurityOptions.ENV_TOKEN + " or --token-file (./spoke token prints a random token), "
          + "or pass --insecure if that is intended");
      }
      log.warn("INSECURE: {} serves {} without a cluster token (--insecure): anyone who reaches it can launch processes", server, host);
    }
    return new ClusterAuth(token);
  }

  /** Loopback addresses, by their literal form (no name lookup). */
  public static boolean isLoopback(String host) {
    return host.equals("localhost") || host.startsWith("127.") || host.equals("::1") || host.equals("[::1]")
      || host.equals("0:0:0:0:0:0:0:1");
  }

  /** Failed proofs so far (a wrong or missing token), for the metrics. */
  public long refusedCount() {
    return refused.sum();
  }

  public boolean hasToken() {
    return key != null;
  }

  static byte[] nonce() {
    byte[] nonce = new byte[NONCE_LENGTH];
    RANDOM.nextBytes(nonce);
    return nonce;
  }

  /** The connecting side's proof; {@code null} without a token. */
  byte[] helloProof(byte[] challengeNonce, byte[] helloNonce) {
    return mac(HELLO_LABEL, challengeNonce, helloNonce);
  }

  /** The server's proof; {@code null} without a token. */
  byte[] welcomeProof(byte[] challengeNonce, byte[] helloNonce) {
    return mac(WELCOME_LABEL, challengeNonce, helloNonce);
  }

  /** Whether {@code proof} (empty when the peer sent none) is {@code expected}, compared in constant time. */
  static boolean matches(byte[] expected, byte[] proof) {
    return expected == null || MessageDigest.isEqual(expected, proof);
  }


  private byte[] mac(byte[] label, byte[] a, byte[] b) {
    if (key == null) {
      return null;
    }
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      mac.update(label);
      mac.update(a);
      mac.update(b);
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
    }
  }

  // ------------------------------------------------------------------ failed attempts

  /** How long an address is turned away after its first run of failures (system property {@code spoke.auth.blockMs}). */
  long blockMs() {
    return blockMs;
  }

  /** Milliseconds {@code host} is still turned away for; 0 when it may try. */
  public long blockedFor(String host, long nowMs) {
    Failures f = failures.get(host);
    return f == null ? 0 : Math.max(0, f.blockedUntil - nowMs);
  }

  /**
   * Records a failed proof from {@code host}.
   *
   * @return the milliseconds it is now turned away for, or 0 while it may still try
   */
  public long failed(String host, long nowMs) {
    refused.increment();
    if (failures.size() >= MAX_TRACKED_ADDRESSES) {
      failures.values().removeIf(f -> f.blockedUntil <= nowMs && nowMs - f.windowStart > FAILURE_WINDOW_MS);
      if (failures.size() >= MAX_TRACKED_ADDRESSES) {
        // A flood from many addresses: keep the blocks, forget the counts.
        for (Iterator<Failures> it = failures.values().iterator(); it.hasNext(); ) {
          if (it.next().blockedUntil <= nowMs) {
            it.remove();
          }
        }
      }
    }
    Failures f = failures.computeIfAbsent(host, h -> new Failures(nowMs));
    synchronized (f) {
      if (nowMs - f.windowStart > FAILURE_WINDOW_MS) {
        f.windowStart = nowMs;
        f.count = 0;
      }
      f.count++;
      if (f.count < MAX_FAILURES) {
        return 0;
      }
      f.block = f.block == 0 ? blockMs : Math.min(MAX_BLOCK_MS, f.block * 2);
      f.blockedUntil = nowMs + f.block;
      f.count = 0;
      f.windowStart = nowMs;
      return f.block;
    }
  }

  /** A successful proof from {@code host} forgets its failures. */
  public void succeeded(String host) {
    if (!failures.isEmpty()) {
      failures.remove(host);
    }
  }

  /** The key failures are counted by: the remote IP address. */
  public static String hostKey(io.vertx.core.net.SocketAddress address) {
    if (address == null) {
      return "unknown";
    }
    String host = address.hostAddress() != null ? address.hostAddress() : address.host();
    return host != null ? host : String.valueOf(address);
  }

  private static final class Failures {

    long windowStart;
    int count;
    long block;
    long blockedUntil;

    Failures(long nowMs) {
      this.windowStart = nowMs;
    }
  }
}
