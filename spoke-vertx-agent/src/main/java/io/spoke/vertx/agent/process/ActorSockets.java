// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.process;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Where an agent's actors put their Unix domain sockets: a directory of its own, created at start with mode 700,
 * so that only the agent's user (and root) can reach an actor through it, and removed at stop. Each actor gets a
 * short name in it, {@code a<n>.sock}: a socket's path must fit the kernel's 108 bytes, which actor ids and log
 * directories need not.
 *
 * <p>An agent that is killed cannot remove its directory. It holds a lock on a file in it while it runs, and an
 * agent that starts removes the directories whose lock nobody holds any more: file locks belong to the kernel, so
 * this also sees agents in other containers that share the directory.
 *
 * <p>{@link #next} is for the agent's event loop; the methods that touch files block and run on a worker.
 */
public final class ActorSockets {

  private static final Logger log = LogManager.getLogger(ActorSockets.class);

  /** The kernel's limit (sun_path) is 108 bytes with the terminating zero; leave room. */
  static final int MAX_PATH_BYTES = 100;
  static final String PREFIX = "spoke-agent-";
  static final String LOCK = "agent.lock";
  /** A directory without a lock file may be an agent's that has not taken its lock yet: left alone this long. */
  private static final long UNLOCKED_GRACE_MS = 60_000;
  /**
   * The directories of the agents in this JVM. Their lock files are never opened by a sweep: closing any channel to
   * a file drops every lock this process holds on it (POSIX), which would leave a running agent's directory open
   * to another agent's sweep.
   */
  private static final Set<Path> OWN = ConcurrentHashMap.newKeySet();

  private final Path dir;
  private final FileChannel lockChannel;
  private long sequence;

  private ActorSockets(Path dir, FileChannel lockChannel) {
    this.dir = dir;
    this.lockChannel = lockChannel;
  }

  /**
   * Removes what killed agents left under {@code parent}, then creates this agent's directory there and locks it.
   * Blocking.
   *
   * @return the sockets, or {@code null} when paths under {@code parent} cannot fit a socket's limit
   */
  public static ActorSockets create(Path parent) throws IOException {
    if (bytes(parent.resolve(PREFIX + Long.MAX_VALUE).resolve("a" + Long.MAX_VALUE + ".sock")) > MAX_PATH_BYTES) {
      return null;
    }
    sweep(parent);
    Path dir = Files.createTempDirectory(parent, PREFIX, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    FileChannel channel = null;
    try {
      channel = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      if (channel.tryLock() == null) {
        throw new IOException("cannot lock " + dir.resolve(LOCK));
      }
      OWN.add(dir);
      return new ActorSockets(dir, channel);
    } catch (IOException | RuntimeException e) {
      if (channel != null) {
        channel.close();
      }
      deleteTree(dir);
      throw e;
    }
  }

  /** Removes the socket directories under {@code parent} whose agent is gone. Blocking; failures are logged. */
  static void sweep(Path parent) {
    List<Path> dirs;
    try (Stream<Path> list = Files.list(parent)) {
      dirs = list.filter(p -> p.getFileName().toString().startsWith(PREFIX) && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))
        .collect(Collectors.toList());
    } catch (IOException e) {
      log.debug("Cannot list {} for the socket directories of killed agents: {}", parent, e.toString());
      return;
    }
    for (Path dir : dirs) {
      try {
        if (abandoned(dir)) {
          deleteTree(dir);
          log.info("Removed {}, the socket directory of an agent that is gone", dir);
        }
      } catch (IOException e) {
        // Another user's, or being removed by someone else: not ours to judge.
        log.debug("Left {} alone: {}", dir, e.toString());
      }
    }
  }

  private static boolean abandoned(Path dir) throws IOException {
    if (OWN.contains(dir)) {
      return false;
    }
    Path lock = dir.resolve(LOCK);
    if (!Files.exists(lock, LinkOption.NOFOLLOW_LINKS)) {
      return System.currentTimeMillis() - Files.getLastModifiedTime(dir, LinkOption.NOFOLLOW_LINKS).toMillis() > UNLOCKED_GRACE_MS;
    }
    try (FileChannel channel = FileChannel.open(lock, StandardOpenOption.WRITE)) {
      FileLock held = channel.tryLock();
      if (held == null) {
        return false;
      }
      held.release();
      return true;
    } catch (OverlappingFileLockException e) {
      return false;
    }
  }

  public Path dir() {
    return dir;
  }

  /** The socket path for the next actor. */
  public String next() {
    return dir.resolve("a" + ++sequence + ".sock").toString();
  }

  /** Removes an exited actor's socket file. Blocking. */
  public static void delete(String path) throws IOException {
    Files.deleteIfExists(Path.of(path));
  }

  /** Releases the lock and removes the directory with whatever is left in it. Blocking. */
  public void close() throws IOException {
    try {
      deleteTree(dir);
    } finally {
      lockChannel.close();
      OWN.remove(dir);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    List<Path> paths;
    try (Stream<Path> walk = Files.walk(dir)) {
      paths = walk.sorted(Comparator.reverseOrder()).collect(Collectors.toList());
    }
    for (Path path : paths) {
      Files.deleteIfExists(path);
    }
  }

  private static int bytes(Path path) {
    return path.toString().getBytes(StandardCharsets.UTF_8).length;
  }
}
