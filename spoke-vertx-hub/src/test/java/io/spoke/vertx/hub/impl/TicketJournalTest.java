// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.test.BlockedThreadDetector;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The ticket journal on real files: what is appended comes back, torn and bad lines are survived, and it compacts. */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class TicketJournalTest {

  @TempDir
  Path dir;

  private static JsonObject allocated(String ticket, int port) {
    return new JsonObject().put("op", "allocated").put("ticket", ticket).put("masterPort", port);
  }

  private static <T> T on(Context context, Supplier<Future<T>> action) throws Exception {
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(promise));
    return promise.future().await(30, TimeUnit.SECONDS);
  }

  /** {@code file} opened for appending through a channel the test can make fail, kept in {@code channels}. */
  private static FailingChannel failing(Path file, List<FailingChannel> channels) throws java.io.IOException {
    FailingChannel channel = new FailingChannel(java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE,
      java.nio.file.StandardOpenOption.APPEND));
    channels.add(channel);
    return channel;
  }

  private JournalState open(Vertx vertx, Context context, TicketJournal journal) throws Exception {
    return on(context, () -> vertx.executeBlocking(journal::load));
  }

  @Test
  void whatWasAppendedComesBackAndTheFileIsCompactedOnOpening(Vertx vertx) throws Exception {
    Context context = vertx.getOrCreateContext();
    TicketJournal journal = new TicketJournal(vertx, dir, List::of);
    open(vertx, context, journal);
    on(context, () -> Future.join(List.of(
      journal.append(allocated("t1", 29500)),
      journal.append(allocated("t2", 29501)),
      journal.append(TicketJournal.failed("t2", "n2", "node n2 died")),
      journal.append(allocated("t3", 29502)),
      journal.append(TicketJournal.released("t1")),
      journal.append(allocated("t3", 29600)))).mapEmpty());
    on(context, journal::close);
    assertThat(Files.readAllLines(dir.resolve(TicketJournal.FILE))).hasSize(6);

    TicketJournal reopened = new TicketJournal(vertx, dir, List::of);
    JournalState state = open(vertx, context, reopened);
    assertThat(state.live.keySet()).containsExactly("t2", "t3");
    assertThat(state.live.get("t3").getInteger("masterPort")).as("the last record of a ticket wins").isEqualTo(29600);
    assertThat(state.live.get("t2").getString("state")).isEqualTo("FAILED");
    assertThat(state.live.get("t2").getString("reason")).isEqualTo("node n2 died");
    assertThat(state.live.get("t2").getJsonArray("deadNodes")).containsExactly("n2");
    assertThat(state.released).containsExactly("t1");
    assertThat(state.lines).isEqualTo(6);
    // Compacted: the released id, then the two live tickets.
    assertThat(Files.readAllLines(dir.resolve(TicketJournal.FILE))).hasSize(3);
    on(context, reopened::close);
  }

  @Test
  void rankLaunchesAndGangRestartsAreSmallRecordsFoldedIntoTheirTicket(Vertx vertx) throws Exception {
    Context context = vertx.getOrCreateContext();
    TicketJournal journal = new TicketJournal(vertx, dir, List::of);
    open(vertx, context, journal);
    JsonObject recipe0 = new JsonObject().put("actor", "r0").put("type", "process");
    JsonObject recipe1 = new JsonObject().put("actor", "r1").put("type", "process");
    on(context, () -> Future.join(List.of(
      journal.append(allocated("t1", 1).put("nodes", 1).put("actorsPerNode", 2)),
      journal.append(new JsonObject().put("op", "launched").put("ticket", "t1").put("rank", 1).put("recipe", recipe1)),
      journal.append(new JsonObject().put("op", "launched").put("ticket", "t1").put("rank", 0).put("recipe", recipe0)),
      // A failed launch drops its recipe.
      journal.append(new JsonObject().put("op", "launched").put("ticket", "t1").put("rank", 1).putNull("recipe")),
      journal.append(new JsonObject().put("op", "restart").put("ticket", "t1").put("restarts", 2).put("restarting", true)
        .put("times", new io.vertx.core.json.JsonArray().add(10L).add(20L)).put("reason", "rank 0 exited with status 3")))).mapEmpty());
    on(context, journal::close);
    TicketJournal reopened = new TicketJournal(vertx, dir, List::of);
    JsonObject t1 = open(vertx, context, reopened).live.get("t1");
    assertThat(t1.getJsonArray("recipes").size()).isEqualTo(2);
    assertThat(t1.getJsonArray("recipes").getJsonObject(0)).isEqualTo(recipe0);
    assertThat(t1.getJsonArray("recipes").getValue(1)).isNull();
    assertThat(t1.getInteger("restarts")).isEqualTo(2);
    assertThat(t1.getBoolean("restarting")).isTrue();
    assertThat(t1.getJsonArray("restartTimes").encode()).isEqualTo("[10,20]");
    assertThat(t1.getString("reason")).isEqualTo("rank 0 exited with status 3");
    on(context, reopened::close);
  }

  @Test
  void launchesOfRanksTheTicketDoesNotHaveAreSkippedAsUnreadable(Vertx vertx) throws Exception {
    JsonObject recipe = new JsonObject().put("actor", "r0").put("type", "process");
    Files.writeString(dir.resolve(TicketJournal.FILE), allocated("t1", 1).put("nodes", 1).put("actorsPerNode", 2).encode() + "\n"
      + new JsonObject().put("op", "launched").put("ticket", "t1").put("rank", -1).put("recipe", recipe).encode() + "\n"
      + new JsonObject().put("op", "launched").put("ticket", "t1").put("rank", 2_000_000_000).put("recipe", recipe).encode() + "\n"
      + new JsonObject().put("op", "launched").put("ticket", "t1").put("rank", 1).put("recipe", recipe).encode() + "\n",
      StandardCharsets.UTF_8);
    Context context = vertx.getOrCreateContext();
    TicketJournal journal = new TicketJournal(vertx, dir, List::of);
    JournalState state = open(vertx, context, journal);
    assertThat(state.skipped).isEqualTo(2);
    assertThat(state.live.get("t1").getJsonArray("recipes").size()).isEqualTo(2);
    assertThat(state.live.get("t1").getJsonArray("recipes").getJsonObject(1)).isEqualTo(recipe);
    on(context, journal::close);
  }

  @Test
  void aTornLastLineAndAnUnreadableLineAreSkipped(Vertx vertx) throws Exception {
    Files.writeString(dir.resolve(TicketJournal.FILE), allocated("t1", 1).encode() + "\n" + "{not json\n" + allocated("t2", 2).encode()
      + "\n" + "{\"op\":\"mystery\",\"ticket\":\"t1\"}\n" + allocated("t3", 3).encode().substring(0, 20), StandardCharsets.UTF_8);
    Context context = vertx.getOrCreateContext();
    TicketJournal journal = new TicketJournal(vertx, dir, List::of);
    JournalState state = open(vertx, context, journal);
    assertThat(state.live.keySet()).containsExactly("t1", "t2");
    assertThat(state.skipped).isEqualTo(3);
    // Appends after the repair land on a line of their own.
    on(context, () -> journal.append(allocated("t4", 4)));
    on(context, journal::close);
    TicketJournal again = new TicketJournal(vertx, dir, List::of);
    assertThat(open(vertx, context, again).live.keySet()).containsExactly("t1", "t2", "t4");
    on(context, again::close);
  }

  @Test
  void aWriteThatFailsFailsItsAppendsAndLeavesNoTornLine(Vertx vertx) throws Exception {
    Context context = vertx.getOrCreateContext();
    // The hub's live state, as it hands it to the journal: what the test recorded and did not fail.
    Map<String, JsonObject> live = new LinkedHashMap<>();
    TicketJournal journal = new TicketJournal(vertx, dir, () -> new ArrayList<>(live.values()));
    List<FailingChannel> channels = new ArrayList<>();
    journal.opener = file -> failing(file, channels);
    open(vertx, context, journal);
    live.put("t1", allocated("t1", 1));
    on(context, () -> journal.append(allocated("t1", 1)));
    channels.get(channels.size() - 1).failing = true;
    assertThatThrownBy(() -> on(context, () -> journal.append(allocated("t2", 2)))).hasMessageContaining("No space left on device");
    String afterFailure = Files.readString(dir.resolve(TicketJournal.FILE));
    assertThat(afterFailure).as("the half-written line was cut off").isEqualTo(allocated("t1", 1).encode() + "\n");
    assertThat(journal.broken()).contains("No space left on device");
    channels.get(channels.size() - 1).failing = false;
    live.put("t3", allocated("t3", 3));
    on(context, () -> journal.append(allocated("t3", 3)));
    assertThat(journal.broken()).isNull();
    on(context, journal::close);
    TicketJournal reopened = new TicketJournal(vertx, dir, List::of);
    JournalState state = open(vertx, context, reopened);
    assertThat(state.live.keySet()).containsExactly("t1", "t3");
    assertThat(state.skipped).isZero();
    on(context, reopened::close);
  }

  @Test
  void aBrokenJournalSaysSoUntilItCanWriteAndThenHoldsTheWholeLiveState(Vertx vertx) throws Exception {
    Context context = vertx.getOrCreateContext();
    Map<String, JsonObject> live = new LinkedHashMap<>();
    List<String> released = new ArrayList<>();
    TicketJournal journal = new TicketJournal(vertx, dir, () -> {
      List<JsonObject> records = new ArrayList<>();
      released.forEach(id -> records.add(TicketJournal.released(id)));
      records.addAll(live.values());
      return records;
    });
    // A disk that refuses every write while full: appends, and the repair's reopening too.
    java.util.concurrent.atomic.AtomicBoolean full = new java.util.concurrent.atomic.AtomicBoolean();
    List<FailingChannel> channels = new ArrayList<>();
    journal.opener = file -> {
      if (full.get()) {
        throw new java.io.IOException("No space left on device");
      }
      return failing(file, channels);
    };
    open(vertx, context, journal);
    live.put("t1", allocated("t1", 1));
    on(context, () -> journal.append(allocated("t1", 1)));
    full.set(true);
    channels.forEach(c -> c.failing = true);
    live.remove("t1");
    released.add("t1");
    assertThatThrownBy(() -> on(context, () -> journal.append(TicketJournal.released("t1")))).hasMessageContaining("No space left on device");
    assertThat(journal.broken()).as("broken while the disk refuses writes").contains("No space left on device");
    on(context, journal::sync);
    assertThat(journal.broken()).as("a retry that fails leaves it broken").isNotNull();
    // Meanwhile the hub goes on in memory: a ticket released, another allocated.
    live.put("t2", allocated("t2", 2));
    channels.forEach(c -> c.failing = false);
    full.set(false);
    io.spoke.vertx.test.Await.until("the journal to write again", () -> on(context, () -> Future.succeededFuture(journal.broken())) == null);
    on(context, journal::close);
    JournalState state = open(vertx, context, new TicketJournal(vertx, dir, List::of));
    assertThat(state.live.keySet()).as("what changed while it was broken is on disk").containsExactly("t2");
    assertThat(state.released).containsExactly("t1");
  }

  @Test
  void aLastLineTornInsideAUtf8CharacterIsSkippedAndTheRestKept(Vertx vertx) throws Exception {
    byte[] whole = (allocated("t1", 1).encode() + "\n").getBytes(StandardCharsets.UTF_8);
    byte[] torn = new JsonObject().put("op", "allocated").put("ticket", "t2").put("reason", "caf\u00e9").encode()
      .getBytes(StandardCharsets.UTF_8);
    // Cut inside the two bytes of the last character: what a crash in the middle of the write leaves.
    int cut = new String(torn, StandardCharsets.UTF_8).indexOf('\u00e9') + 1;
    byte[] file = new byte[whole.length + cut];
    System.arraycopy(whole, 0, file, 0, whole.length);
    System.arraycopy(torn, 0, file, whole.length, cut);
    assertThat(file[file.length - 1] & 0xff).as("the file ends inside a character").isEqualTo(0xc3);
    Files.write(dir.resolve(TicketJournal.FILE), file);
    Context context = vertx.getOrCreateContext();
    TicketJournal journal = new TicketJournal(vertx, dir, List::of);
    JournalState state = open(vertx, context, journal);
    assertThat(state.live.keySet()).containsExactly("t1");
    assertThat(state.skipped).isEqualTo(1);
    on(context, journal::close);
  }

  @Test
  void theJournalAndItsLockAreTheHubUsersAlone(Vertx vertx) throws Exception {
    Files.writeString(dir.resolve(TicketJournal.FILE), allocated("t1", 1).encode() + "\n");
    Files.setPosixFilePermissions(dir.resolve(TicketJournal.FILE), java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    Context context = vertx.getOrCreateContext();
    TicketJournal journal = new TicketJournal(vertx, dir, List::of);
    open(vertx, context, journal);
    on(context, () -> journal.append(allocated("t2", 2)));
    for (String name : List.of(TicketJournal.FILE, TicketJournal.LOCK)) {
      assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(name)))).as(name)
        .isEqualTo("rw-------");
    }
    on(context, journal::close);
  }

  @Test
  void oneHubPerStateDirectory(Vertx vertx) throws Exception {
    Context context = vertx.getOrCreateContext();
    TicketJournal first = new TicketJournal(vertx, dir, List::of);
    open(vertx, context, first);
    TicketJournal second = new TicketJournal(vertx, dir, List::of);
    assertThatThrownBy(() -> open(vertx, context, second)).isInstanceOf(IllegalStateException.class)
      .hasMessageContaining("another hub uses the state directory").hasMessageContaining("--state-dir");
    on(context, first::close);
    TicketJournal third = new TicketJournal(vertx, dir, List::of);
    open(vertx, context, third);
    on(context, third::close);
  }

  @Test
  void concurrentAppendsShareFsyncsAndALongJournalIsCompactedWhileInUse(Vertx vertx) throws Exception {
    Context context = vertx.getOrCreateContext();
    // The live state the hub would hand the journal when it compacts: here, what the test appended.
    Map<String, JsonObject> live = new LinkedHashMap<>();
    List<String> released = new ArrayList<>();
    TicketJournal journal = new TicketJournal(vertx, dir, () -> {
      List<JsonObject> records = new ArrayList<>();
      released.forEach(id -> records.add(TicketJournal.released(id)));
      records.addAll(live.values());
      return records;
    });
    open(vertx, context, journal);
    int tickets = 8_000;
    on(context, () -> {
      List<Future<Void>> writes = new ArrayList<>();
      for (int i = 0; i < tickets; i++) {
        JsonObject record = allocated("t" + i, i);
        live.put("t" + i, record);
        writes.add(journal.append(record));
        if (i % 2 == 1) {
          live.remove("t" + i);
          released.add("t" + i);
          writes.add(journal.append(TicketJournal.released("t" + i)));
        }
      }
      return Future.all(writes).mapEmpty();
    });
    long appends = journal.appends();
    long fsyncs = journal.fsyncs();
    on(context, journal::close);
    assertThat(appends).isEqualTo(tickets * 3 / 2);
    assertThat(fsyncs).as("appends made while a write was in progress share its fsync").isLessThan(appends / 10);
    long lines = Files.readAllLines(dir.resolve(TicketJournal.FILE)).size();
    assertThat(lines).as("compacted while in use").isLessThan(appends);

    TicketJournal reopened = new TicketJournal(vertx, dir, List::of);
    JournalState state = open(vertx, context, reopened);
    assertThat(state.live.keySet()).containsExactlyElementsOf(live.keySet());
    assertThat(state.released).hasSize(tickets / 2).contains("t1", "t" + (tickets - 1));
    on(context, reopened::close);
    System.out.println("ticket journal: " + appends + " appends, " + fsyncs + " fsyncs, " + lines + " lines after compaction");
  }
}
