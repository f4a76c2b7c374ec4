// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This host's identity, to tell whether an actor runs on the same machine as a client: Linux's boot id, which
 * every process of a booted kernel reads the same and no two boots share. Containers on one machine share it
 * too; a Unix socket path from another container's file system is simply not found, and the client falls back
 * to TCP.
 */
public final class LocalHost {

  private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");

  /** Read once, when the class is first used: a file of the kernel's memory, answered without touching a disk. */
  private static final String ID = read();

  private LocalHost() {
  }

  /** The boot id, or {@code null} where there is none (not Linux). */
  public static String id() {
    return ID;
  }

  private static String read() {
    try {
      String id = Files.readString(BOOT_ID, StandardCharsets.US_ASCII).strip();
      return id.isEmpty() ? null : id;
    } catch (IOException | SecurityException e) {
      return null;
    }
  }
}
