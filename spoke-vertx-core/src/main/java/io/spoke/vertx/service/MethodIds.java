// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.service;

import java.nio.charset.StandardCharsets;

/**
 * How method ids derive from signatures: the 32-bit FNV-1a hash of the UTF-8 bytes of
 * {@code name(fully.qualified.ParamType,...)}, with erased parameter types. Stable across builds, JVMs and
 * machines; the code generator computes it at compile time, and anyone can compute it to call a generated
 * dispatcher by hand.
 */
public final class MethodIds {

  private static final int FNV_OFFSET = 0x811c9dc5;
  private static final int FNV_PRIME = 0x01000193;

  private MethodIds() {
  }

  /** The id of a method with this signature, e.g. {@code "translate(java.lang.String,com.acme.Language)"}. */
  public static int of(String signature) {
    int hash = FNV_OFFSET;
    for (byte b : signature.getBytes(StandardCharsets.UTF_8)) {
      hash ^= b & 0xff;
      hash *= FNV_PRIME;
    }
    return hash;
  }
}
