package io.spoke.vertx.agent.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Where an agent's actors put their Unix domain sockets: a directory of its own, created at start with mode 700,
 * so that only the agent's user (and root) can reach an actor through it, and removed at stop. Each actor gets a
 * short name in it, {@code a<n>.sock}: a socket's path must fit the kernel's 108 bytes, which actor ids and log
 * directories need not.
 *
 * <p>{@link #next} is for the agent's event loop; the methods that touch files block and run on a worker.
 */
public final class ActorSockets {

  /** The kernel's limit (sun_path) is 108 bytes with the terminating zero; leave room. */
  static final int MAX_PATH_BYTES = 100;

  private final Path dir;
  private long sequence;

  private ActorSockets(Path dir) {
    this.dir = dir;
  }

  /**
   * Creates the directory under {@code parent}. Blocking.
   *
   * @return the sockets, or {@code null} when paths under {@code parent} cannot fit a socket's limit
   */
  public static ActorSockets create(Path parent) throws IOException {
    Path dir = Files.createTempDirectory(parent, "spoke-agent-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    ActorSockets sockets = new ActorSockets(dir);
    if (bytes(dir.resolve("a" + Long.MAX_VALUE + ".sock")) > MAX_PATH_BYTES) {
      sockets.close();
      return null;
    }
    return sockets;
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

  /** Removes the directory and whatever is left in it. Blocking. */
  public void close() throws IOException {
    if (!Files.exists(dir)) {
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
