package io.spoke.vertx.hub.impl;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The hub's ticket journal, {@code <state-dir>/tickets.journal}: one JSON object per line, appended and fsynced
 * before the hub answers what it records, so a hub killed at any moment restarts with every ticket it confirmed.
 * <ul>
 *   <li>{@code {"op":"allocated","ticket":ID,...}}: a ticket and its placement (see {@link JournalRecords}); a later one
 *   for the same ticket replaces it (its rendezvous port changed);</li>
 *   <li>{@code {"op":"failed","ticket":ID,"node":NODE,"reason":...}}: a node of the ticket died;</li>
 *   <li>{@code {"op":"released","ticket":ID}}: the ticket is gone (its id stays taken, as in memory).</li>
 * </ul>
 * Appends that arrive while a write is in progress go out together in the next write and share its fsync (group
 * commit), on a worker thread, never the event loop. The file is compacted when the hub starts, and whenever it
 * holds far more lines than live state: the live tickets are written to a new file that is fsynced and renamed
 * over the old one. A torn last line (the hub died mid-write) is ignored; a write that fails is cut off the file.
 * <p>
 * All methods but {@link #load} run on the hub's event loop.
 */
final class TicketJournal {

  private static final Logger log = LogManager.getLogger(TicketJournal.class);

  static final String FILE = "tickets.journal";
  static final String LOCK = "hub.lock";
  /** Lines appended since the last compaction before the next one, on top of twice the live lines. */
  static final int COMPACT_SLACK = 10_000;

  /** What {@link #load} read back. */
  static final class State {

    /** Live tickets by id, in journal order, each its last "allocated" record with "failed" records folded in. */
    final Map<String, JsonObject> live = new LinkedHashMap<>();
    /** Released ticket ids, oldest first, at most {@link TicketDesk#RELEASED_KEPT}. */
    final Set<String> released = new LinkedHashSet<>();
    int lines;
    int skipped;

    void apply(JsonObject record) {
      String op = record.getString("op");
      String ticket = record.getString("ticket");
      if (ticket == null || op == null) {
        throw new IllegalArgumentException("a record without op or ticket");
      }
      switch (op) {
        case "allocated":
          live.remove(ticket);
          live.put(ticket, record);
          released.remove(ticket);
          break;
        case "failed":
          JsonObject ticketRecord = live.get(ticket);
          if (ticketRecord != null) {
            ticketRecord.put("state", "FAILED").put("reason", record.getString("reason"));
            ticketRecord.put("deadNodes", ticketRecord.getJsonArray("deadNodes", new JsonArray()).add(record.getString("node")));
          }
          break;
        case "released":
          live.remove(ticket);
          released.remove(ticket);
          released.add(ticket);
          if (released.size() > TicketDesk.RELEASED_KEPT) {
            released.remove(released.iterator().next());
          }
          break;
        default:
          throw new IllegalArgumentException("unknown op '" + op + "'");
      }
    }

    /** The compacted journal: released ids, then live tickets. */
    List<JsonObject> records() {
      List<JsonObject> records = new ArrayList<>(released.size() + live.size());
      for (String id : released) {
        records.add(released(id));
      }
      records.addAll(live.values());
      return records;
    }
  }

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

  /** @param snapshot the live state as records, taken on the event loop when the journal compacts */
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

  /**
   * Locks the state directory (one hub per directory), reads the journal back, compacts it and opens it for
   * appending. Blocking: call it on a worker.
   *
   * @throws IllegalStateException when another hub holds the directory
   */
  State load() throws IOException {
    Files.createDirectories(dir);
    lockChannel = FileChannel.open(dir.resolve(LOCK), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = lockChannel.tryLock();
    } catch (java.nio.channels.OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      lockChannel.close();
      throw new IllegalStateException("another hub uses the state directory " + dir + " (it holds " + dir.resolve(LOCK)
        + "); give each hub its own --state-dir");
    }
    State state = new State();
    if (Files.exists(file)) {
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i);
        if (line.isBlank()) {
          continue;
        }
        state.lines++;
        try {
          state.apply(new JsonObject(line));
        } catch (DecodeException | IllegalArgumentException | ClassCastException e) {
          state.skipped++;
          if (i == lines.size() - 1) {
            log.warn("Ticket journal {}: ignoring a torn last line (the hub stopped while writing it)", file);
          } else {
            log.error("Ticket journal {}: skipping unreadable line {}: {}", file, i + 1, e.getMessage());
          }
        }
      }
    }
    rewrite(state.records());
    liveLines = state.live.size() + state.released.size();
    return state;
  }

  /** Records {@code record}; the future completes once it is on disk (fsynced), or fails if it could not be written. */
  Future<Void> append(JsonObject record) {
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
    vertx.executeBlocking(() -> {
      write(batch);
      return null;
    }, false).onComplete(ar -> {
      writing = false;
      for (Op op : batch) {
        if (ar.succeeded()) {
          op.done.tryComplete();
        } else {
          op.done.tryFail(ar.cause());
        }
      }
      if (ar.failed()) {
        log.error("Could not write the ticket journal {}: {}", file, ar.cause().toString());
      } else {
        fsyncs++;
      }
      flush();
    });
  }

  /** Writes a batch in order; on failure, cuts the file back to where the batch began. Worker only. */
  private void write(List<Op> batch) throws IOException {
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
      } catch (IOException ignored) {
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
    try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
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
    }
    channel = opener.open(file);
  }

  /** Writes what is queued, then closes the file and frees the directory. */
  Future<Void> close() {
    if (closed) {
      return Future.succeededFuture();
    }
    closed = true;
    Promise<Void> drained = Promise.promise();
    pending.add(new Op(new byte[0], null, drained));
    flush();
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
