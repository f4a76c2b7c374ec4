// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx;

import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * How the processes of a cluster trust each other: the cluster token every connection proves it holds (a
 * challenge-response over a fresh nonce, HMAC-SHA256; the token itself never crosses the wire), and TLS.
 * The hub, the agents and clients each take these options (as the flags {@code --token-file},
 * {@code --insecure}, {@code --tls-cert}, {@code --tls-key}, {@code --tls-ca}, {@code --tls-verify-host});
 * agents hand them on to the actor processes they start.
 * <p>
 * The token comes from {@link #setToken}, else the file {@link #setTokenFile}, else the environment variable
 * {@value #ENV_TOKEN}. Without one, servers accept anyone who can reach them, so they refuse to listen on
 * anything but loopback unless {@link #setInsecure} says that is intended.
 */
public class SecurityOptions {

  /** The environment variable read when neither a token nor a token file is set. */
  public static final String ENV_TOKEN = "SPOKE_TOKEN";

  /** Shortest token accepted, in characters: 32 random base64 characters is what {@code ./spoke token} prints. */
  public static final int MIN_TOKEN_LENGTH = 16;

  /** The option keys, shared by the hub's, the agents' and the client's options. */
  public static final List<String> KEYS = List.of("token", "tokenFile", "insecure", "tlsCert", "tlsKey", "tlsCa", "tlsVerifyHost");

  /** The keys whose default is {@code null}: string flags on the command line. */
  public static final Set<String> STRING_KEYS = Set.of("token", "tokenFile", "tlsCert", "tlsKey", "tlsCa");

  private String token;
  private String tokenFile;
  private boolean insecure;
  private String tlsCert;
  private String tlsKey;
  private String tlsCa;
  private boolean tlsVerifyHost = true;

  public SecurityOptions() {
  }

  public SecurityOptions(SecurityOptions other) {
    this.token = other.token;
    this.tokenFile = other.tokenFile;
    this.insecure = other.insecure;
    this.tlsCert = other.tlsCert;
    this.tlsKey = other.tlsKey;
    this.tlsCa = other.tlsCa;
    this.tlsVerifyHost = other.tlsVerifyHost;
  }

  /** Adds the options that are set to {@code json} (the token itself only when it was given inline). */
  public JsonObject addTo(JsonObject json) {
    putIfSet(json, "token", token);
    putIfSet(json, "tokenFile", tokenFile);
    json.put("insecure", insecure);
    putIfSet(json, "tlsCert", tlsCert);
    putIfSet(json, "tlsKey", tlsKey);
    putIfSet(json, "tlsCa", tlsCa);
    json.put("tlsVerifyHost", tlsVerifyHost);
    return json;
  }

  private static void putIfSet(JsonObject json, String key, String value) {
    if (value != null) {
      json.put(key, value);
    }
  }

  /**
   * The cluster token, from the first of {@link #getToken()}, {@link #getTokenFile()} and {@value #ENV_TOKEN}
   * that is set; {@code null} when none is.
   *
   * @throws IllegalArgumentException when the token file cannot be read, or a token is too short
   */
  public byte[] resolveToken() {
    String value;
    String source;
    if (token != null) {
      value = token;
      source = "the token option";
    } else if (tokenFile != null) {
      try {
        value = Files.readString(Path.of(tokenFile), StandardCharsets.UTF_8).strip();
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read the token file " + tokenFile + ": " + e);
      }
      source = "token file " + tokenFile;
    } else {
      value = System.getenv(ENV_TOKEN);
      if (value == null || value.isEmpty()) {
        return null;
      }
      value = value.strip();
      source = ENV_TOKEN;
    }
    if (value.length() < MIN_TOKEN_LENGTH) {
      throw new IllegalArgumentException(source + " holds a token of " + value.length() + " characters; a cluster token needs at least "
        + MIN_TOKEN_LENGTH + " (./spoke token prints a random one)");
    }
    return value.getBytes(StandardCharsets.UTF_8);
  }

  /** Whether sockets use TLS: a server needs {@link #setTlsCert} and {@link #setTlsKey}, a client one of those or {@link #setTlsCa}. */
  public boolean isTls() {
    return tlsCert != null || tlsCa != null;
  }

  /**
   * Turns on TLS for a server when a certificate is set.
   *
   * @throws IllegalArgumentException when only one of the certificate and the key is set
   */
  public NetServerOptions applyTo(NetServerOptions options) {
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new IllegalArgumentException("TLS needs both a certificate (tlsCert) and its private key (tlsKey), PEM files; only "
        + (tlsCert != null ? "tlsCert" : "tlsKey") + " is set");
    }
    if (tlsCert != null) {
      options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions().setCertPath(tlsCert).setKeyPath(tlsKey));
    }
    return options;
  }

  /**
   * Turns on TLS for a client when a CA or a certificate is set: the servers' certificates must be signed by
   * the CA (or be the certificate itself, for a self-signed cluster certificate), and, unless
   * {@link #setTlsVerifyHost} is off, name the address connected to.
   */
  public NetClientOptions applyTo(NetClientOptions options) {
    if (isTls()) {
      options.setSsl(true)
        .setTrustOptions(new PemTrustOptions().addCertPath(tlsCa != null ? tlsCa : tlsCert))
        .setHostnameVerificationAlgorithm(tlsVerifyHost ? "HTTPS" : "");
    }
    return options;
  }

  public String getToken() {
    return token;
  }

  /** The cluster token itself; prefer {@link #setTokenFile} or {@value #ENV_TOKEN}, which keep it out of configs and process lists. */
  public SecurityOptions setToken(String token) {
    if (token != null && token.strip().length() < MIN_TOKEN_LENGTH) {
      throw new IllegalArgumentException("a cluster token needs at least " + MIN_TOKEN_LENGTH + " characters, got "
        + token.strip().length() + " (./spoke token prints a random one)");
    }
    this.token = token == null ? null : token.strip();
    return this;
  }

  public String getTokenFile() {
    return tokenFile;
  }

  /** A file holding the cluster token (surrounding white space ignored); readable by the cluster's user only. */
  public SecurityOptions setTokenFile(String tokenFile) {
    this.tokenFile = tokenFile;
    return this;
  }

  public boolean isInsecure() {
    return insecure;
  }

  /**
   * Servers only: listen on an address other than loopback without a cluster token, so that anyone who can
   * reach it can launch processes. Off by default; said in the log when used.
   */
  public SecurityOptions setInsecure(boolean insecure) {
    this.insecure = insecure;
    return this;
  }

  public String getTlsCert() {
    return tlsCert;
  }

  /** PEM certificate (chain) of this process's servers; turns TLS on. */
  public SecurityOptions setTlsCert(String tlsCert) {
    this.tlsCert = tlsCert;
    return this;
  }

  public String getTlsKey() {
    return tlsKey;
  }

  /** PEM private key (PKCS#8 or PKCS#1) of {@link #getTlsCert()}. */
  public SecurityOptions setTlsKey(String tlsKey) {
    this.tlsKey = tlsKey;
    return this;
  }

  public String getTlsCa() {
    return tlsCa;
  }

  /** PEM certificate(s) that servers' certificates must chain to; default: {@link #getTlsCert()} itself. */
  public SecurityOptions setTlsCa(String tlsCa) {
    this.tlsCa = tlsCa;
    return this;
  }

  public boolean isTlsVerifyHost() {
    return tlsVerifyHost;
  }

  /** Whether a server's certificate must name the host or IP address connected to (default true). */
  public SecurityOptions setTlsVerifyHost(boolean tlsVerifyHost) {
    this.tlsVerifyHost = tlsVerifyHost;
    return this;
  }
}
