// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import static io.spoke.vertx.hub.impl.EtcdCalls.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.PutOption;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.spoke.vertx.NotLeaderException;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.EtcdCluster;
import io.spoke.vertx.test.ProcessCleanup;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The hub's state in a real etcd (one member): the journal's records come back folded as the journal folds them, a
 * log whose election key another hub holds now writes nothing, and a log that could not write (etcd paused with
 * SIGSTOP) makes etcd equal to the hub's live state once it can.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class EtcdStateLogIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  private static final String PREFIX = "/spoke/log-it";

  private EtcdCluster etcd;
  private Client client;

  @BeforeEach
  void start() throws Exception {
    assumeTrue(EtcdCluster.available(), "etcd is not installed (apt-get install etcd-server etcd-client)");
    etcd = EtcdCluster.start(processes::track, Files.createTempDirectory("spoke-etcd-log"), 1);
  }

  @AfterEach
  void stop() {
    if (client != null) {
      client.close();
    }
    if (etcd != null) {
      etcd.close();
    }
  }

  private static <T> T on(Context context, Supplier<Future<T>> action) throws Exception {
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(promise));
    return promise.future().await(30, TimeUnit.SECONDS);
  }

  private static JsonObject allocated(String ticket, int port) {
    return new JsonObject().put("op", "allocated").put("ticket", ticket).put("masterPort", port).put("nodes", 1).put("actorsPerNode", 2);
  }

  private static JsonObject launched(String ticket, int rank, String actor) {
    return new JsonObject().put("op", "launched").put("ticket", ticket).put("rank", rank)
      .put("recipe", actor == null ? null : new JsonObject().put("actor", actor));
  }

  /** A hub's election key, won now: the key and the revision that fences its writes. */
  private long elect(Vertx vertx, String who) throws Exception {
    TxnResponse won = client.getKVClient().txn().If(new Cmp(bytes(PREFIX + "/leader"), Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
      .Then(Op.put(bytes(PREFIX + "/leader"), bytes(who), PutOption.DEFAULT)).commit().get(10, TimeUnit.SECONDS);
    assertThat(won.isSucceeded()).isTrue();
    return won.getHeader().getRevision();
  }

  private EtcdStateLog log(Vertx vertx, Context context, long revision, Supplier<List<JsonObject>> snapshot, Runnable deposed,
                           long timeoutMs) {
    EtcdCalls calls = new EtcdCalls(context, etcd.endpoints(), timeoutMs, new SimpleMeterRegistry());
    return new EtcdStateLog(client.getKVClient(), calls, PREFIX, etcd.endpoints(), bytes(PREFIX + "/leader"), revision, snapshot, deposed);
  }

  private Client client(Vertx vertx) {
    client = Client.builder().endpoints(etcd.endpoints()).vertx(vertx).build();
    return client;
  }

  @Test
  void recordsComeBackFoldedAsTheJournalFoldsThemOneKeyPerObject(Vertx vertx) throws Exception {
    client(vertx);
    Context context = vertx.getOrCreateContext();
    long revision = elect(vertx, "hub-a");
    List<JsonObject> records = List.of(
      allocated("t1", 29500),
      launched("t1", 1, "r1"),
      launched("t1", 0, "r0"),
      launched("t1", 1, null),
      new JsonObject().put("op", "restart").put("ticket", "t1").put("restarts", 2).put("restarting", true)
        .put("times", new JsonArray().add(10L).add(20L)).put("reason", "rank 0 exited with status 3"),
      allocated("t2", 29501),
      TicketJournal.failed("t2", "n2", "node n2 died"),
      allocated("t3", 29502),
      TicketJournal.released("t3"),
      allocated("t2", 29600),
      ActorLedger.placedRecord("a1", "n1"),
      ActorLedger.placedRecord("a2", "n1"),
      ActorLedger.placedRecord("a1", "n2"),
      ActorLedger.goneRecord("a2"));
    EtcdStateLog log = log(vertx, context, revision, List::of, () -> { }, 5_000);
    // Half in one batch (written together), half one by one.
    on(context, () -> Future.join(records.subList(0, 5).stream().map(log::append).toList()).mapEmpty());
    for (JsonObject record : records.subList(5, records.size())) {
      on(context, () -> log.append(record));
    }
    JournalState expected = new JournalState();
    records.forEach(expected::apply);

    JournalState loaded = on(context, () -> log(vertx, context, revision, List::of, () -> { }, 5_000).load());
    assertThat(loaded.live.keySet()).containsExactlyInAnyOrderElementsOf(expected.live.keySet());
    for (String id : expected.live.keySet()) {
      assertThat(loaded.live.get(id)).as("ticket " + id).isEqualTo(expected.live.get(id));
    }
    assertThat(loaded.released).containsExactly("t3");
    // Ad-hoc actors: one key each, the last node it was placed on; a gone one has none.
    assertThat(loaded.actors).isEqualTo(expected.actors).containsExactly(java.util.Map.entry("a1", "n2"));
    String keys = etcd.etcdctl("get", "--prefix", "--keys-only", PREFIX + "/");
    assertThat(keys).contains(PREFIX + "/a/a1").doesNotContain(PREFIX + "/a/a2");
    assertThat(keys).contains(PREFIX + "/t/t1\n", PREFIX + "/t/t1/rank/0", PREFIX + "/t/t1/rank/1", PREFIX + "/t/t1/restart",
      PREFIX + "/t/t2\n", PREFIX + "/t/t2/failed/n2", PREFIX + "/released/t3").doesNotContain(PREFIX + "/t/t3");
    assertThat(log.transactions()).as("the first five records went in one transaction").isLessThan(records.size());
  }

  @Test
  void aLogWhoseElectionKeyAnotherHubHoldsNowWritesNothingAndSaysItIsDeposed(Vertx vertx) throws Exception {
    client(vertx);
    Context context = vertx.getOrCreateContext();
    long mine = elect(vertx, "hub-a");
    AtomicInteger deposed = new AtomicInteger();
    EtcdStateLog log = log(vertx, context, mine, List::of, deposed::incrementAndGet, 5_000);
    on(context, () -> log.append(allocated("t1", 29500)));
    // Its lease expired (the key is gone) and another hub won the election since.
    client.getKVClient().delete(bytes(PREFIX + "/leader"), DeleteOption.DEFAULT).get(10, TimeUnit.SECONDS);
    long theirs = elect(vertx, "hub-b");
    assertThat(theirs).isGreaterThan(mine);

    Promise<Throwable> failure = Promise.promise();
    context.runOnContext(v -> log.append(allocated("t2", 29501)).onComplete(ar -> failure.complete(ar.cause())));
    Throwable refused = failure.future().await(30, TimeUnit.SECONDS);
    assertThat(refused).isInstanceOf(NotLeaderException.class).hasMessageContaining("no longer leads");
    assertThat(deposed.get()).isEqualTo(1);
    Promise<Throwable> after = Promise.promise();
    context.runOnContext(v -> log.append(TicketJournal.released("t1")).onComplete(ar -> after.complete(ar.cause())));
    assertThat(after.future().await(30, TimeUnit.SECONDS)).isInstanceOf(NotLeaderException.class);
    String keys = etcd.etcdctl("get", "--prefix", "--keys-only", PREFIX + "/t/");
    assertThat(keys).contains(PREFIX + "/t/t1").doesNotContain("t2");
    assertThat(etcd.etcdctl("get", "--prefix", "--keys-only", PREFIX + "/released/")).doesNotContain("t1");
  }

  @Test
  void aWriteThatFailedWhileEtcdWasPausedIsRepairedFromTheLiveStateOnceItAnswersWithNoOtherWrite(Vertx vertx) throws Exception {
    client(vertx);
    Context context = vertx.getOrCreateContext();
    long revision = elect(vertx, "hub-a");
    List<JsonObject> live = new ArrayList<>();
    EtcdStateLog log = log(vertx, context, revision, () -> new ArrayList<>(live), () -> { }, 1_000);
    on(context, () -> log.append(allocated("t1", 29500)));
    on(context, () -> log.append(allocated("t2", 29501)));
    on(context, () -> log.append(ActorLedger.placedRecord("stale", "n1")));

    long pid = etcd.member(0).pid();
    assertThat(new ProcessBuilder("kill", "-STOP", String.valueOf(pid)).start().waitFor()).isZero();
    try {
      // While etcd is silent: t1 released, t2 moves, t3 allocated; each write fails at the deadline.
      live.add(TicketJournal.released("t1"));
      live.add(allocated("t2", 29700));
      live.add(allocated("t3", 29502));
      live.add(ActorLedger.placedRecord("a1", "n1"));
      Promise<Throwable> failure = Promise.promise();
      context.runOnContext(v -> log.append(TicketJournal.released("t1")).onComplete(ar -> failure.complete(ar.cause())));
      assertThat(failure.future().await(30, TimeUnit.SECONDS)).hasMessageContaining("did not answer");
      assertThat(on(context, () -> Future.succeededFuture(log.broken()))).contains("did not answer");
    } finally {
      new ProcessBuilder("kill", "-CONT", String.valueOf(pid)).start().waitFor();
    }
    // With nothing else written (allocations are refused while it is broken), it tries again by itself, and makes etcd
    // hold what the hub holds.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (on(context, () -> Future.succeededFuture(log.broken())) != null && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(on(context, () -> Future.succeededFuture(String.valueOf(log.broken())))).isEqualTo("null");
    JournalState loaded = on(context, () -> log(vertx, context, revision, List::of, () -> { }, 5_000).load());
    assertThat(loaded.live.keySet()).containsExactlyInAnyOrder("t2", "t3");
    assertThat(loaded.live.get("t2").getInteger("masterPort")).isEqualTo(29700);
    assertThat(loaded.released).containsExactly("t1");
    assertThat(loaded.actors).containsExactly(java.util.Map.entry("a1", "n1"));
    ByteSequence gone = bytes(PREFIX + "/t/t1");
    assertThat(client.getKVClient().get(gone).get(10, TimeUnit.SECONDS).getKvs()).isEmpty();
  }
}
