package io.spoke.vertx.agent.process;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
   * that the process goes on writing to it, with {@code header} first. A warm host prints nothing while it waits; if it
   * did (a JVM warning), those lines follow the header.
   */
  public Path adopt(Path warmLog, String group, String actorId, String header) throws IOException {
    Path file = newFile(group, actorId);
    Files.move(warmLog, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    byte[] before = Files.readAllBytes(file);
    byte[] head = header.getBytes(StandardCharsets.UTF_8);
    byte[] all = new byte[head.length + before.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(before, 0, all, head.length, before.length);
    // In place, not a new file: the process's descriptor (opened to append) must go on pointing at this one.
    Files.write(file, all, java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
    return file;
  }

  /** Where the warm hosts of the pool write until they become actors. */
  public Path warmLog(String hostId) throws IOException {
    Path dir = logDir.resolve(".warm");
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

  /** Appends {@code text} to an existing log (a restarted actor's next instance goes on in the same file); returns it. */
  public static Path append(Path file, String text) throws IOException {
    Files.writeString(file, text, StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
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
