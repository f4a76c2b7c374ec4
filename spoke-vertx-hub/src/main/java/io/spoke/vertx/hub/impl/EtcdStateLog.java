// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import static io.spoke.vertx.hub.impl.EtcdCalls.bytes;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.spoke.vertx.NotLeaderException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The hub's tickets in etcd, one key per object under the cluster's prefix, so that a change writes one key:
 * <ul>
 *   <li>{@code PREFIX/t/ID}: the ticket's "allocated" record; {@code PREFIX/t/ID/rank/R}, {@code .../restart} and
 *   {@code .../failed/NODE}: its later "launched", "restart" and "failed" records;</li>
 *   <li>{@code PREFIX/released/ID}: a released id, kept so that it is never handed out again (the newest
 *   {@link TicketDesk#RELEASED_KEPT});</li>
 *   <li>{@code PREFIX/a/ID}: the node an ad-hoc actor or process runs on ({@link ActorLedger}), deleted when it is gone.</li>
 * </ul>
 * Read back ({@link #load}), each ticket's keys are folded in the order etcd wrote them, as the journal's lines are.
 * <p>
 * <b>Fencing.</b> Every write is one transaction that applies only while this hub's election key still exists with the
 * create revision it won it at ({@link HubLeadership}): once another hub leads, or this hub's lease expired while it
 * was paused or cut off, nothing it sends changes anything, and the failed comparison deposes it. Appends queued while a
 * transaction is in flight go together in the next (group commit; at most {@link #MAX_OPS} operations each, etcd's
 * default limit being 128). A write that fails leaves the log broken: the next write first makes etcd equal to the
 * hub's live state (read, compare, write the difference), as the journal rewrites itself. On the hub's event loop.
 */
final class EtcdStateLog implements StateLog {

  private static final Logger log = LogManager.getLogger(EtcdStateLog.class);

  static final int MAX_OPS = 100;
  /** The most bytes of keys and values one transaction carries: etcd refuses requests over 1.5 MiB by default. */
  static final int MAX_BYTES = 1 << 20;
  /** How often a broken log tries to write again when nothing else is written (allocations wait for it). */
  static final long RETRY_MS = 2_000;

  /** A key's next value, or its deletion ({@code value == null}); {@code prefix}: every key under it. */
  private record KeyOp(String key, byte[] value, boolean prefix) {
  }

  private final KV kv;
  private final EtcdCalls etcd;
  private final String prefix;
  private final String endpoints;
  private final Cmp fence;
  private final ByteSequence leaderKey;
  private final Supplier<List<JsonObject>> snapshot;
  private final Runnable deposed;
  private final ArrayDeque<String> releasedOrder = new ArrayDeque<>();
  private List<JsonObject> pending = new ArrayList<>();
  private List<Promise<Void>> waiting = new ArrayList<>();
  private boolean writing;
  private boolean closed;
  private String broken;
  private long transactions;
  private long retryTimer = -1;
  private long appends;

  /**
   * @param leaderKey this hub's election key, won at {@code leaderRevision}
   * @param deposed called once when a write finds that another hub leads
   */
  EtcdStateLog(KV kv, EtcdCalls etcd, String prefix, String endpoints, ByteSequence leaderKey, long leaderRevision,
               Supplier<List<JsonObject>> snapshot, Runnable deposed) {
    this.kv = kv;
    this.etcd = etcd;
    this.prefix = prefix;
    this.endpoints = endpoints;
    this.leaderKey = leaderKey;
    this.fence = new Cmp(leaderKey, Cmp.Op.EQUAL, CmpTarget.createRevision(leaderRevision));
    this.snapshot = snapshot;
    this.deposed = deposed;
  }

  private String ticketKey(String id) {
    return prefix + "/t/" + id;
  }

  private String releasedKey(String id) {
    return prefix + "/released/" + id;
  }

  private String actorKey(String id) {
    return prefix + "/a/" + id;
  }

  @Override
  public String where() {
    return "the hub's state in etcd (" + endpoints + ", under " + prefix + ")";
  }

  @Override
  public String advice() {
    return "check that a majority of etcd's members run and reach each other, and the hub's --etcd";
  }

  @Override
  public String broken() {
    return broken;
  }

  long transactions() {
    return transactions;
  }

  long appends() {
    return appends;
  }

  /** The tickets and released ids in etcd, folded as the journal's records are; trims released ids beyond those kept. */
  Future<JournalState> load() {
    GetOption all = GetOption.builder().isPrefix(true).build();
    Future<List<KeyValue>> tickets = etcd.call(kv.get(bytes(prefix + "/t/"), all), "the read of the tickets").map(r -> r.getKvs());
    Future<List<KeyValue>> released = etcd.call(kv.get(bytes(prefix + "/released/"), all), "the read of released ids").map(r -> r.getKvs());
    Future<List<KeyValue>> actors = etcd.call(kv.get(bytes(actorKey("")), all), "the read of the actors").map(r -> r.getKvs());
    return Future.all(tickets, released, actors).compose(both -> {
      JournalState state = new JournalState();
      for (KeyValue key : actors.result()) {
        try {
          state.apply(new JsonObject(key.getValue().toString(StandardCharsets.UTF_8)));
        } catch (RuntimeException e) {
          state.skipped++;
          log.error("The hub's state in etcd: skipping unreadable key {}: {}", key.getKey().toString(StandardCharsets.UTF_8), e.toString());
        }
      }
      List<KeyValue> ids = new ArrayList<>(released.result());
      ids.sort(Comparator.comparingLong(KeyValue::getModRevision));
      List<KeyOp> trim = new ArrayList<>();
      for (int i = 0; i < ids.size(); i++) {
        String key = ids.get(i).getKey().toString(StandardCharsets.UTF_8);
        String id = key.substring(releasedKey("").length());
        if (i < ids.size() - TicketDesk.RELEASED_KEPT) {
          trim.add(new KeyOp(key, null, false));
        } else {
          state.apply(TicketJournal.released(id));
          releasedOrder.add(id);
        }
      }
      List<KeyValue> keys = new ArrayList<>(tickets.result());
      String main = prefix + "/t/";
      // In the order etcd wrote them; a ticket's record before the records written with it in one transaction.
      keys.sort(Comparator.comparingLong(KeyValue::getModRevision)
        .thenComparing(k -> k.getKey().toString(StandardCharsets.UTF_8).indexOf('/', main.length()) >= 0));
      for (KeyValue key : keys) {
        state.lines++;
        try {
          state.apply(new JsonObject(key.getValue().toString(StandardCharsets.UTF_8)));
        } catch (RuntimeException e) {
          state.skipped++;
          log.error("The hub's state in etcd: skipping unreadable key {}: {}", key.getKey().toString(StandardCharsets.UTF_8), e.toString());
        }
      }
      return write(trim).map(state);
    });
  }

  @Override
  public Future<Void> append(JsonObject record) {
    if (closed) {
      return Future.failedFuture(new NotLeaderException("this hub no longer leads: " + where() + " takes nothing from it", null));
    }
    Promise<Void> done = Promise.promise();
    pending.add(record);
    waiting.add(done);
    appends++;
    flush();
    return done.future();
  }

  @Override
  public Future<Void> sync() {
    if (closed || (pending.isEmpty() && !writing && broken == null)) {
      return Future.succeededFuture();
    }
    Promise<Void> done = Promise.promise();
    waiting.add(done);
    flush();
    return done.future().otherwiseEmpty();
  }

  private void flush() {
    if (writing || waiting.isEmpty()) {
      return;
    }
    writing = true;
    List<JsonObject> batch = pending;
    List<Promise<Void>> promises = waiting;
    pending = new ArrayList<>();
    waiting = new ArrayList<>();
    Future<Void> repaired = broken == null ? Future.succeededFuture() : repair();
    repaired.compose(v -> write(fold(batch))).onComplete(ar -> {
      writing = false;
      if (ar.failed()) {
        if (broken == null && !(ar.cause() instanceof NotLeaderException)) {
          log.error("Could not write {}: {}; the hub allocates nothing until it can", where(), ar.cause().getMessage());
        }
        broken = ar.cause().getMessage();
        scheduleRetry();
      } else if (broken != null) {
        log.warn("{} can be written again; it holds the hub's whole live state", where());
        broken = null;
      }
      for (Promise<Void> promise : promises) {
        promise.handle(ar);
      }
      if (!closed) {
        flush();
      }
    });
  }

  /** While broken and nothing else is written (allocations are refused meanwhile): a repair every {@link #RETRY_MS}. */
  private void scheduleRetry() {
    if (retryTimer >= 0 || closed) {
      return;
    }
    retryTimer = etcd.vertx().setTimer(RETRY_MS, t -> {
      retryTimer = -1;
      if (broken != null && !closed) {
        sync();
      }
    });
  }

  /** The batch's records as one operation per key: a ticket's later records supersede its earlier ones in the batch. */
  private List<KeyOp> fold(List<JsonObject> batch) {
    Map<String, KeyOp> ops = new LinkedHashMap<>();
    List<String> released = new ArrayList<>();
    for (JsonObject record : batch) {
      String actor = record.getString("actor");
      if (actor != null) {
        String key = actorKey(actor);
        ops.put(key, new KeyOp(key, "actor".equals(record.getString("op")) ? record.toBuffer().getBytes() : null, false));
        continue;
      }
      String id = record.getString("ticket");
      String key = ticketKey(id);
      if (released.contains(id)) {
        continue;
      }
      byte[] value = record.toBuffer().getBytes();
      switch (record.getString("op")) {
        case "allocated":
          // Its record holds everything of the ticket: what the batch wrote of it before is superseded.
          ops.keySet().removeIf(k -> k.startsWith(key + "/"));
          ops.put(key, new KeyOp(key, value, false));
          break;
        case "launched":
          ops.put(key + "/rank/" + record.getInteger("rank"), new KeyOp(key + "/rank/" + record.getInteger("rank"), value, false));
          break;
        case "restart":
          ops.put(key + "/restart", new KeyOp(key + "/restart", value, false));
          break;
        case "failed":
          ops.put(key + "/failed/" + record.getString("node"), new KeyOp(key + "/failed/" + record.getString("node"), value, false));
          break;
        case "released":
          released.add(id);
          ops.keySet().removeIf(k -> k.equals(key) || k.startsWith(key + "/"));
          ops.put(key, new KeyOp(key, null, false));
          ops.put(key + "/", new KeyOp(key + "/", null, true));
          ops.put(releasedKey(id), new KeyOp(releasedKey(id), value, false));
          releasedOrder.add(id);
          if (releasedOrder.size() > TicketDesk.RELEASED_KEPT) {
            String oldest = releasedOrder.poll();
            ops.putIfAbsent(releasedKey(oldest), new KeyOp(releasedKey(oldest), null, false));
          }
          break;
        default:
          throw new IllegalArgumentException("unknown record " + record.getString("op"));
      }
    }
    return new ArrayList<>(ops.values());
  }

  /** Makes etcd hold exactly the hub's live state: after a failed write, whose outcome etcd may or may not have kept. */
  private Future<Void> repair() {
    Map<String, byte[]> wanted = new LinkedHashMap<>();
    for (JsonObject record : snapshot.get()) {
      String id = record.getString("ticket");
      String actor = record.getString("actor");
      wanted.put(actor != null ? actorKey(actor) : "released".equals(record.getString("op")) ? releasedKey(id) : ticketKey(id),
        record.toBuffer().getBytes());
    }
    GetOption all = GetOption.builder().isPrefix(true).build();
    Future<List<KeyValue>> tickets = etcd.call(kv.get(bytes(prefix + "/t/"), all), "the read of the tickets").map(r -> r.getKvs());
    Future<List<KeyValue>> released = etcd.call(kv.get(bytes(prefix + "/released/"), all), "the read of released ids").map(r -> r.getKvs());
    Future<List<KeyValue>> actors = etcd.call(kv.get(bytes(actorKey("")), all), "the read of the actors").map(r -> r.getKvs());
    return Future.all(tickets, released, actors).compose(both -> {
      List<KeyOp> ops = new ArrayList<>();
      Map<String, byte[]> missing = new LinkedHashMap<>(wanted);
      List<KeyValue> present = new ArrayList<>(tickets.result());
      present.addAll(released.result());
      present.addAll(actors.result());
      for (KeyValue kvp : present) {
        String key = kvp.getKey().toString(StandardCharsets.UTF_8);
        byte[] want = missing.remove(key);
        if (want == null) {
          ops.add(new KeyOp(key, null, false));
        } else if (!Arrays.equals(want, kvp.getValue().getBytes())) {
          ops.add(new KeyOp(key, want, false));
        }
      }
      missing.forEach((key, value) -> ops.add(new KeyOp(key, value, false)));
      log.info("Repairing {}: {} keys to write or delete", where(), ops.size());
      return write(ops);
    });
  }

  /** Writes {@code ops} in guarded transactions of at most {@link #MAX_OPS} and {@link #MAX_BYTES}, one after another. */
  private Future<Void> write(List<KeyOp> ops) {
    Future<Void> written = Future.succeededFuture();
    int from = 0;
    while (from < ops.size()) {
      int to = from;
      long bytes = 0;
      while (to < ops.size() && to - from < MAX_OPS && (to == from || bytes + size(ops.get(to)) <= MAX_BYTES)) {
        bytes += size(ops.get(to++));
      }
      List<KeyOp> chunk = ops.subList(from, to);
      written = written.compose(v -> transaction(chunk));
      from = to;
    }
    return written;
  }

  private static long size(KeyOp op) {
    return op.key.length() + (op.value == null ? 0 : op.value.length);
  }

  private Future<Void> transaction(List<KeyOp> chunk) {
    Op[] ops = new Op[chunk.size()];
    for (int i = 0; i < ops.length; i++) {
      KeyOp op = chunk.get(i);
      ops[i] = op.value != null ? Op.put(bytes(op.key), ByteSequence.from(op.value), PutOption.DEFAULT)
        : Op.delete(bytes(op.key), op.prefix ? DeleteOption.builder().isPrefix(true).build() : DeleteOption.DEFAULT);
    }
    return etcd.call(kv.txn().If(fence).Then(ops).Else(Op.get(leaderKey, GetOption.DEFAULT)).commit(), "a write of the hub's state")
      .compose(response -> {
        transactions++;
        if (response.isSucceeded()) {
          return Future.succeededFuture();
        }
        closed = true;
        deposed.run();
        return Future.failedFuture(new NotLeaderException("this hub no longer leads (" + leaderNow(response)
          + "): it wrote nothing; its clients and agents go to the hub that leads", null));
      });
  }

  private static String leaderNow(TxnResponse response) {
    List<KeyValue> leader = response.getGetResponses().isEmpty() ? List.of() : response.getGetResponses().get(0).getKvs();
    return leader.isEmpty() ? "its election key is gone: its lease expired" : "another hub won the election";
  }

  @Override
  public Future<Void> close() {
    if (closed) {
      return Future.succeededFuture();
    }
    Future<Void> drained = sync();
    closed = true;
    if (retryTimer >= 0) {
      etcd.vertx().cancelTimer(retryTimer);
      retryTimer = -1;
    }
    return drained;
  }
}
