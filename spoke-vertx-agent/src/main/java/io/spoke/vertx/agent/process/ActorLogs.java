// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.process;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Where actor logs go: {@code <logDir>/<ticket or "adhoc">/<actorId>_<yyyyMMdd_HHmmss>.log}, holding the
 * actor's stdout and stderr after a few header lines. Blocking file I/O: call from a worker thread.
 */
public final class ActorLogs {

  public static final String ADHOC = "adhoc";
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd_HHmmss");

  private final Path logDir;

  public ActorLogs(Path logDir) {
    this.logDir = logDir;
  }

  public Path logDir() {
    return logDir;
  }

  /**
   * Creates the log file of a new actor, with its identity in the first lines. Ids are validated before
   * they get here ({@link io.spoke.vertx.protocol.Names}), so they cannot leave the log directory.
   */
  public Path create(String group, String actorId, String header) throws IOException {
    Path file = newFile(group, actorId);
    Files.writeString(file, header, StandardCharsets.UTF_8);
    return file;
  }

  /**
   * Makes a warm host's log ({@code warmLog}, which its process writes to) the log of the actor it now runs: renamed, so
   * that the process goes on writing to it, then {@code header} appended. A warm host prints nothing while it waits, so
   * the header is its first line; a line it printed anyway (a JVM warning) comes before, as the same process's.
   */
  public Path adopt(Path warmLog, String group, String actorId, String header) throws IOException {
    Path file = newFile(group, actorId);
    Files.move(warmLog, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return append(file, header);
  }

  /** Removes the warm hosts' logs that agents no longer running left ({@code PID-PORT} folders of a dead pid). */
  public void clearWarmLogs() throws IOException {
    Path dir = logDir.resolve(".warm");
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (java.util.stream.Stream<Path> agents = Files.list(dir)) {
      for (Path agent : (Iterable<Path>) agents::iterator) {
        String name = agent.getFileName().toString();
        int dash = name.indexOf('-');
        long pid = dash > 0 && name.substring(0, dash).chars().allMatch(Character::isDigit) ? Long.parseLong(name.substring(0, dash)) : -1;
        if (pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          continue;
        }
        try (java.util.stream.Stream<Path> files = Files.walk(agent)) {
          for (Path f : (Iterable<Path>) files.sorted(java.util.Comparator.reverseOrder())::iterator) {
            Files.deleteIfExists(f);
          }
        }
      }
    }
  }

  /**
   * Where a warm host of the pool of agent {@code agentKey} ({@code PID-PORT}: agents of one process, or of one log
   * directory, keep apart) writes until it becomes an actor.
   */
  public Path warmLog(String agentKey, String hostId) throws IOException {
    Path dir = logDir.resolve(".warm").resolve(agentKey);
    Files.createDirectories(dir);
    Path file = dir.resolve(hostId + ".log");
    Files.write(file, new byte[0]);
    return file;
  }

  private Path newFile(String group, String actorId) throws IOException {
    Path dir = logDir.resolve(group == null ? ADHOC : group);
    Files.createDirectories(dir);
    String base = actorId + "_" + LocalDateTime.now().format(STAMP);
    Path file = dir.resolve(base + ".log");
    for (int n = 2; Files.exists(file); n++) {
      file = dir.resolve(base + "_" + n + ".log");
    }
    if (!file.normalize().startsWith(logDir.normalize())) {
      throw new IOException("log file " + file + " would be outside " + logDir);
    }
    return file;
  }

  /**
   * Appends {@code text} to a log (a restarted actor's next instance goes on in the same file); returns it. A log that
   * was removed meanwhile (its file, or its whole directory) is made again, so that a next instance always has one.
   */
  public static Path append(Path file, String text) throws IOException {
    Path dir = file.getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    return file;
  }

  /** A piece of a log file. */
  public static final class Chunk {

    public final io.vertx.core.buffer.Buffer data;
    public final long size;

    Chunk(io.vertx.core.buffer.Buffer data, long size) {
      this.data = data;
      this.size = size;
    }
  }

  /** Up to {@code max} bytes of {@code file} from {@code offset}, and the file's size. */
  public static Chunk read(Path file, long offset, int max) throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
      long size = raf.length();
      if (offset >= size) {
        return new Chunk(io.vertx.core.buffer.Buffer.buffer(0), size);
      }
      byte[] bytes = new byte[(int) Math.min(max, size - offset)];
      raf.seek(offset);
      raf.readFully(bytes);
      return new Chunk(io.vertx.core.buffer.Buffer.buffer(bytes), size);
    }
  }

  /** The last {@code lines} lines of a log (at most 64 KiB of it), for error messages. */
  public static String tail(Path file, int lines) {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
      long length = raf.length();
      int size = (int) Math.min(length, 64 * 1024);
      byte[] bytes = new byte[size];
      raf.seek(length - size);
      raf.readFully(bytes);
      String text = new String(bytes, StandardCharsets.UTF_8);
      Deque<String> last = new ArrayDeque<>();
      for (String line : text.split("\\R")) {
        last.addLast(line);
        if (last.size() > lines) {
          last.removeFirst();
        }
      }
      return String.join("\n", last);
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e.getMessage() + ")";
    }
  }
}
