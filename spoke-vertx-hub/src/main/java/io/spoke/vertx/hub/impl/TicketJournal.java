// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The hub's ticket journal, {@code <state-dir>/tickets.journal}: one JSON object per line, appended and fsynced
 * before the hub answers what it records, so a hub killed at any moment restarts with every ticket it confirmed.
 * Records are small and per change, so that a change writes a line, not the ticket:
 * <ul>
 *   <li>{@code {"op":"allocated","ticket":ID,...}}: a ticket and its placement (see {@link JournalRecords}); a later one
 *   for the same ticket replaces it (its rendezvous port changed, or the journal was compacted);</li>
 *   <li>{@code {"op":"launched","ticket":ID,"rank":R,"recipe":{...}}}: how rank R of a gang-restarting ticket was
 *   launched ({@code "recipe":null}: its launch failed, so the rank has none);</li>
 *   <li>{@code {"op":"restart","ticket":ID,"restarts":N,"restarting":B,"times":[...],"reason":...}}: the ticket's gang
 *   restarts;</li>
 *   <li>{@code {"op":"failed","ticket":ID,"node":NODE,"reason":...}}: a node of the ticket died;</li>
 *   <li>{@code {"op":"released","ticket":ID}}: the ticket is gone (its id stays taken, as in memory);</li>
 *   <li>{@code {"op":"actor","actor":ID,"node":NODE}} and {@code {"op":"actorGone","actor":ID}}: where an ad-hoc actor
 *   or process runs, and that it is gone ({@link ActorLedger}).</li>
 * </ul>
 * Appends that arrive while a write is in progress go out together in the next write and share its fsync (group
 * commit), on a worker thread, never the event loop. The file is compacted when the hub starts, and whenever it
 * holds far more lines than live state: the live tickets are written to a new file that is fsynced and renamed
 * over the old one. The files are the hub user's alone (0600): they hold users' environments.
 * <p>
 * Faults: lines are read as bytes, so a last line the hub died while writing (torn anywhere, inside a UTF-8 character
 * too) is skipped with a warning, as is any unreadable line. A write that fails is cut off the file and fails its
 * appends, and the journal is <em>broken</em> ({@link #broken()}): the hub's health says so, and every later write
 * (an append, or a retry every {@link #RETRY_MS} ms) first rewrites the whole live state, so that nothing that
 * happened meanwhile is missing once the disk takes writes again.
 * <p>
 * All methods but {@link #load} run on the hub's event loop.
 */
final class TicketJournal implements StateLog {

  private static final Logger log = LogManager.getLogger(TicketJournal.class);

  static final String FILE = "tickets.journal";
  static final String LOCK = "hub.lock";
  /** Lines appended since the last compaction before the next one, on top of twice the live lines. */
  static final int COMPACT_SLACK = 10_000;
  /** How often a broken journal tries to write again when nothing else is written. */
  static final long RETRY_MS = 2_000;

  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  /** How the journal file is opened for appending. */
  interface Opener {
    FileChannel open(Path file) throws IOException;
  }

  /** One queued append, or a rewrite of the whole file. */
  private static final class Op {

    final byte[] line;
    final List<JsonObject> snapshot;
    final Promise<Void> done;

    Op(byte[] line, List<JsonObject> snapshot, Promise<Void> done) {
      this.line = line;
      this.snapshot = snapshot;
      this.done = done;
    }
  }

  private final Vertx vertx;
  private final Path dir;
  private final Path file;
  private final Supplier<List<JsonObject>> snapshot;
  /** Opens the journal for appending; tests put a channel in between whose writes fail. */
  Opener opener = file -> FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
  /** Touched by one worker at a time (writes are never concurrent), after {@link #load} opened it. */
  private FileChannel channel;
  private FileChannel lockChannel;
  private List<Op> pending = new ArrayList<>();
  private boolean writing;
  private boolean closed;
  private int linesSinceCompaction;
  private int liveLines;
  private long appends;
  private long fsyncs;
  /** Why the last write failed, while the journal is broken; null while it writes. */
  private String broken;
  private long retryTimer = -1;

  /** @param snapshot the live state as records, taken on the event loop when the journal compacts or repairs itself */
  TicketJournal(Vertx vertx, Path dir, Supplier<List<JsonObject>> snapshot) {
    this.vertx = vertx;
    this.dir = dir;
    this.file = dir.resolve(FILE);
    this.snapshot = snapshot;
  }

  static JsonObject released(String ticket) {
    return new JsonObject().put("op", "released").put("ticket", ticket);
  }

  static JsonObject failed(String ticket, String node, String reason) {
    return new JsonObject().put("op", "failed").put("ticket", ticket).put("node", node).put("reason", reason);
  }

  /** The journal file. */
  Path file() {
    return file;
  }

  @Override
  public String where() {
    return "the ticket journal " + file;
  }

  @Override
  public String advice() {
    return "check the hub's --state-dir and its disk";
  }

  /**
   * Locks the state directory (one hub per directory), reads the journal back, compacts it and opens it for
   * appending. Blocking: call it on a worker.
   *
   * @throws IllegalStateException when another hub holds the directory
   */
  JournalState load() throws IOException {
    Files.createDirectories(dir);
    lockChannel = FileChannel.open(dir.resolve(LOCK), Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE), ownerOnly());
    Files.setPosixFilePermissions(dir.resolve(LOCK), OWNER_ONLY);
    FileLock lock;
    try {
      lock = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      lockChannel.close();
      throw new IllegalStateException("another hub uses the state directory " + dir + " (it holds " + dir.resolve(LOCK)
        + "); give each hub its own --state-dir");
    }
    JournalState state = new JournalState();
    if (Files.exists(file)) {
      read(Files.readAllBytes(file), state);
    }
    rewrite(state.records());
    liveLines = state.live.size() + state.released.size();
    return state;
  }

  /**
   * Reads the lines of {@code bytes} into {@code state}, as bytes first: a line that is not UTF-8 (torn inside a
   * character), not JSON or not a record is skipped and counted; a torn last line with a warning, any other with an
   * error.
   */
  private void read(byte[] bytes, JournalState state) {
    int start = 0;
    int number = 0;
    while (start < bytes.length) {
      int end = start;
      while (end < bytes.length && bytes[end] != '\n') {
        end++;
      }
      number++;
      boolean last = end >= bytes.length - 1;
      String line = null;
      try {
        line = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes, start, end - start)).toString();
        if (!line.isBlank()) {
          state.lines++;
          state.apply(new JsonObject(line));
        }
      } catch (CharacterCodingException | DecodeException | IllegalArgumentException | ClassCastException | NullPointerException e) {
        state.skipped++;
        if (last) {
          log.warn("Ticket journal {}: ignoring a torn last line (the hub stopped while writing it): {}", file, e.getMessage());
        } else {
          log.error("Ticket journal {}: skipping unreadable line {}: {}", file, number, e.toString());
        }
      }
      start = end + 1;
    }
  }

  /** Records {@code record}; the future completes once it is on disk (fsynced), or fails if it could not be written. */
  @Override
  public Future<Void> append(JsonObject record) {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("the ticket journal is closed"));
    }
    Promise<Void> done = Promise.promise();
    pending.add(new Op(record.toBuffer().appendByte((byte) '\n').getBytes(), null, done));
    appends++;
    if (++linesSinceCompaction > COMPACT_SLACK + 2 * liveLines) {
      List<JsonObject> live = snapshot.get();
      liveLines = live.size();
      linesSinceCompaction = 0;
      pending.add(new Op(null, live, Promise.promise()));
    }
    flush();
    return done.future();
  }

  /** Completes once everything appended so far is on disk (or has failed, which {@link #broken} then says). */
  @Override
  public Future<Void> sync() {
    if (closed || (pending.isEmpty() && !writing && broken == null)) {
      return Future.succeededFuture();
    }
    Promise<Void> done = Promise.promise();
    pending.add(new Op(new byte[0], null, done));
    flush();
    return done.future().otherwiseEmpty();
  }

  /** Why the journal cannot be written now (its last write failed), or null while it can. */
  @Override
  public String broken() {
    return broken;
  }

  /** Appends made, and fsyncs that made them durable (fewer when appends were grouped). */
  long appends() {
    return appends;
  }

  long fsyncs() {
    return fsyncs;
  }

  private void flush() {
    if (writing || pending.isEmpty()) {
      return;
    }
    writing = true;
    List<Op> batch = pending;
    pending = new ArrayList<>();
    if (broken != null) {
      // The last write failed: what it held (and whatever changed since) goes in with the whole live state first.
      batch.add(0, new Op(null, snapshot.get(), Promise.promise()));
    }
    vertx.executeBlocking(() -> {
      write(batch);
      return null;
    }, false).onComplete(ar -> {
      writing = false;
      // The journal's state first: whoever waits on an append reads it as of that append.
      if (ar.failed()) {
        if (broken == null) {
          log.error("Could not write the ticket journal {}: {}; the hub allocates nothing until it can (retrying every {} ms)", file,
            ar.cause().toString(), RETRY_MS);
        }
        broken = ar.cause().getMessage() != null ? ar.cause().getMessage() : ar.cause().toString();
        scheduleRetry();
      } else {
        if (broken != null) {
          log.warn("The ticket journal {} can be written again; it holds the hub's whole live state", file);
          broken = null;
        }
        fsyncs++;
      }
      for (Op op : batch) {
        if (ar.succeeded()) {
          op.done.tryComplete();
        } else {
          op.done.tryFail(ar.cause());
        }
      }
      flush();
    });
  }

  private void scheduleRetry() {
    if (retryTimer >= 0 || closed) {
      return;
    }
    retryTimer = vertx.setTimer(RETRY_MS, t -> {
      retryTimer = -1;
      if (broken != null && !closed) {
        sync();
      }
    });
  }

  /** Writes a batch in order; on failure, cuts the file back to where the batch began. Worker only. */
  private void write(List<Op> batch) throws IOException {
    if (channel == null || !channel.isOpen()) {
      channel = opener.open(file);
    }
    long start = channel.size();
    try {
      ByteArrayOutputStream lines = new ByteArrayOutputStream();
      for (Op op : batch) {
        if (op.line != null) {
          lines.write(op.line);
        } else {
          writeFully(lines);
          lines.reset();
          rewrite(op.snapshot);
          start = channel.size();
        }
      }
      writeFully(lines);
      channel.force(false);
    } catch (IOException | UncheckedIOException e) {
      try {
        channel.truncate(start);
      } catch (IOException | RuntimeException ignored) {
        // the journal stays as it is; a torn line is skipped when it is read back
      }
      throw e;
    }
  }

  private void writeFully(ByteArrayOutputStream lines) throws IOException {
    ByteBuffer buffer = ByteBuffer.wrap(lines.toByteArray());
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
  }

  /** Replaces the journal with {@code records}: a new file, fsynced, renamed over the old one. Worker only. */
  private void rewrite(List<JsonObject> records) throws IOException {
    Path tmp = dir.resolve(FILE + ".tmp");
    Files.deleteIfExists(tmp);
    try (FileChannel out = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), ownerOnly())) {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      for (JsonObject record : records) {
        bytes.write(record.toBuffer().getBytes());
        bytes.write('\n');
      }
      ByteBuffer buffer = ByteBuffer.wrap(bytes.toByteArray());
      while (buffer.hasRemaining()) {
        out.write(buffer);
      }
      out.force(true);
    }
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel directory = FileChannel.open(dir, StandardOpenOption.READ)) {
      directory.force(true);
    }
    if (channel != null) {
      channel.close();
      channel = null;
    }
    channel = opener.open(file);
  }

  private static FileAttribute<?>[] ownerOnly() {
    return new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)};
  }

  /** Writes what is queued, then closes the file and frees the directory. */
  @Override
  public Future<Void> close() {
    if (closed) {
      return Future.succeededFuture();
    }
    Promise<Void> drained = Promise.promise();
    pending.add(new Op(new byte[0], null, drained));
    flush();
    closed = true;
    if (retryTimer >= 0) {
      vertx.cancelTimer(retryTimer);
      retryTimer = -1;
    }
    return drained.future().transform(ar -> vertx.executeBlocking(() -> {
      if (channel != null) {
        channel.close();
      }
      if (lockChannel != null) {
        lockChannel.close();
      }
      return null;
    }));
  }
}
