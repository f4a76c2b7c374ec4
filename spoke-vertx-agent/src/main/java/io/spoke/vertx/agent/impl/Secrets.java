// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

/** The one-time secrets an agent gives the actor hosts it starts, which each proves when it connects back. */
final class Secrets {

  private static final SecureRandom RANDOM = new SecureRandom();

  private Secrets() {
  }

  /** 24 random bytes, URL-safe Base64. */
  static String next() {
    byte[] bytes = new byte[24];
    RANDOM.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  /** Whether {@code given} is {@code expected}, compared in constant time (a timing says nothing of how much matched). */
  static boolean matches(String expected, String given) {
    return expected != null && given != null && MessageDigest.isEqual(expected.getBytes(StandardCharsets.UTF_8),
      given.getBytes(StandardCharsets.UTF_8));
  }
}
