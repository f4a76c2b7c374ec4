// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import static io.spoke.vertx.hub.impl.EtcdCalls.bytes;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.spoke.vertx.client.HubInfo;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * This hub's part in the election of the cluster's leader, on an etcd lease of {@code ttlMs}:
 * <ul>
 *   <li><b>Standby</b>: it holds a lease and tries, every {@link #pollMs()}, to create the election key
 *   {@code PREFIX/leader} under it (a transaction that succeeds only where the key does not exist); the key's value
 *   says where the leader listens, which is what a standby tells the peers that reach it.</li>
 *   <li><b>Leader</b>: it created the key, at a revision that fences every write it makes ({@link EtcdStateLog}). It
 *   renews its lease every {@link #pollMs()} and steps down as soon as the lease is gone, or once a whole TTL has passed
 *   since the last renewal that etcd answered was sent: by then etcd may have let the lease expire, and another hub
 *   may lead.</li>
 * </ul>
 * Every hub, standby or leader, also keeps {@code PREFIX/hubs/ADDRESS} under its lease, so that the leader's status
 * lists the hubs that stand by ({@link #hubs()}): a hub that dies drops out when its lease expires.
 * A hub that resigns (it stops) deletes its key and revokes its lease, so that a standby takes over at its next try.
 * Everything runs on the hub's context; jetcd's answers come back to it through {@link EtcdCalls}.
 */
final class HubLeadership {

  private static final Logger log = LogManager.getLogger(HubLeadership.class);

  /** What the hub does as it wins and loses the lead. */
  interface Listener {
    void elected(ByteSequence key, long revision);

    void deposed(String why);
  }

  private final Vertx vertx;
  private final Client client;
  private final EtcdCalls etcd;
  private final ByteSequence key;
  private final String membersPrefix;
  private final String address;
  private final long ttlMs;
  private final Listener listener;
  private long lease = -1;
  private long validUntilNanos;
  private boolean renewing;
  private boolean leading;
  private long revision;
  private String leader;
  private boolean stopped;
  private long timer = -1;
  /** While leading: a timer at the end of the lease's validity, so that the lead ends then, not at the next tick. */
  private long deadlineTimer = -1;
  private long lastComplaintNanos;
  /** Until when this hub does not stand for election (it refused to lead), in System.nanoTime(). */
  private long pausedUntilNanos;
  private boolean paused;
  private String lastComplaint;
  /** The lease under which this hub's member key was written, or -1 (not yet, or a write failed: written again). */
  private long memberLease = -1;
  private boolean registering;
  private boolean readingMembers;
  private long membersReadNanos;
  /** The other hubs' addresses, as the leader last read them (sorted). */
  private List<String> others = List.of();

  HubLeadership(Vertx vertx, Client client, EtcdCalls etcd, String prefix, String address, long ttlMs, Listener listener) {
    this.vertx = vertx;
    this.client = client;
    this.etcd = etcd;
    this.key = bytes(prefix + "/leader");
    this.membersPrefix = prefix + "/hubs/";
    this.address = address;
    this.ttlMs = ttlMs;
    this.listener = listener;
  }

  /** How often a standby tries to take the lead. */
  long pollMs() {
    return Math.max(100, Math.min(1_000, ttlMs / 10));
  }

  void start() {
    timer = vertx.setPeriodic(0, Math.max(50, Math.min(pollMs(), ttlMs / 3)), t -> tick());
  }

  boolean leading() {
    return leading;
  }

  /** Where the leader listens, as its election key says: this hub's address while it leads; null when unknown. */
  String leader() {
    return leading ? address : leader;
  }

  ByteSequence key() {
    return key;
  }

  /** While this hub leads: itself, then the standbys that hold their leases (as last read, at most a second ago); else empty. */
  List<HubInfo> hubs() {
    if (!leading) {
      return List.of();
    }
    List<HubInfo> hubs = new ArrayList<>(others.size() + 1);
    hubs.add(new HubInfo(address, true));
    others.forEach(other -> hubs.add(new HubInfo(other, false)));
    return hubs;
  }

  private void tick() {
    if (stopped) {
      return;
    }
    long now = System.nanoTime();
    if (lease >= 0 && now - validUntilNanos > 0) {
      lost("it could not renew its etcd lease within its TTL of " + ttlMs + " ms");
    }
    if (lease >= 0 && memberLease != lease) {
      register();
    }
    if (lease < 0) {
      grant();
    } else if (leading) {
      renew();
      readMembers(now);
    } else if (!renewing) {
      renew();
      if (!paused || now - pausedUntilNanos > 0) {
        paused = false;
        campaign();
      }
    }
  }

  private void grant() {
    if (renewing) {
      return;
    }
    renewing = true;
    long sent = System.nanoTime();
    etcd.call(client.getLeaseClient().grant(Math.max(1, (ttlMs + 999) / 1000), etcd.timeoutMs(), TimeUnit.MILLISECONDS), "a lease grant")
      .onComplete(ar -> {
        renewing = false;
        if (stopped) {
          if (ar.succeeded()) {
            client.getLeaseClient().revoke(ar.result().getID());
          }
          return;
        }
        if (ar.failed()) {
          complain("cannot take part in the election: " + ar.cause().getMessage());
          return;
        }
        lease = ar.result().getID();
        validUntilNanos = sent + TimeUnit.MILLISECONDS.toNanos(ttlMs);
        campaign();
      });
  }

  private void renew() {
    if (renewing || lease < 0) {
      return;
    }
    renewing = true;
    long held = lease;
    long sent = System.nanoTime();
    etcd.call(client.getLeaseClient().keepAliveOnce(held), "a lease renewal").onComplete(ar -> {
      renewing = false;
      if (stopped || held != lease) {
        return;
      }
      if (ar.succeeded() && ar.result().getTTL() > 0) {
        validUntilNanos = sent + TimeUnit.MILLISECONDS.toNanos(ttlMs);
        armDeadline();
      } else if (ar.succeeded() || String.valueOf(ar.cause().getMessage()).contains("lease not found")) {
        lost("its etcd lease expired");
      } else {
        complain("cannot renew its etcd lease: " + ar.cause().getMessage());
      }
    });
  }

  /** Writes this hub's member key under its lease (again under each new lease). */
  private void register() {
    if (registering) {
      return;
    }
    registering = true;
    long held = lease;
    etcd.call(client.getKVClient().put(bytes(membersPrefix + address), bytes(new JsonObject().put("address", address).encode()),
      PutOption.builder().withLeaseId(held).build()), "the hub's member key").onComplete(ar -> {
        registering = false;
        if (ar.succeeded() && held == lease) {
          memberLease = held;
        }
      });
  }

  /** The leader reads which hubs stand by, once a second. */
  private void readMembers(long now) {
    if (readingMembers || now - membersReadNanos < TimeUnit.SECONDS.toNanos(1)) {
      return;
    }
    readingMembers = true;
    etcd.call(client.getKVClient().get(bytes(membersPrefix), GetOption.builder().isPrefix(true).withKeysOnly(true).build()),
      "the read of the hubs").onComplete(ar -> {
        readingMembers = false;
        if (ar.failed()) {
          return;
        }
        membersReadNanos = System.nanoTime();
        List<String> found = new ArrayList<>();
        for (KeyValue kv : ar.result().getKvs()) {
          String other = kv.getKey().toString(StandardCharsets.UTF_8).substring(membersPrefix.length());
          if (!other.equals(address)) {
            found.add(other);
          }
        }
        Collections.sort(found);
        others = List.copyOf(found);
      });
  }

  /** Takes the lead if no hub holds it, or learns which hub does. */
  private void campaign() {
    if (lease < 0 || leading || stopped) {
      return;
    }
    long held = lease;
    String proposal = new JsonObject().put("address", address).put("lease", Long.toHexString(held)).encode();
    etcd.call(client.getKVClient().txn().If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
      .Then(Op.put(key, bytes(proposal), PutOption.builder().withLeaseId(held).build()))
      .Else(Op.get(key, GetOption.DEFAULT)).commit(), "a campaign for the lead").onComplete(ar -> {
        if (stopped || held != lease || leading) {
          return;
        }
        if (ar.failed()) {
          complain("cannot take part in the election: " + ar.cause().getMessage());
          return;
        }
        if (ar.result().isSucceeded()) {
          leading = true;
          revision = ar.result().getHeader().getRevision();
          leader = address;
          armDeadline();
          log.info("This hub ({}) leads the cluster (election key {} at revision {})", address, key.toString(StandardCharsets.UTF_8),
            revision);
          listener.elected(key, revision);
          return;
        }
        List<KeyValue> kvs = ar.result().getGetResponses().get(0).getKvs();
        String now = kvs.isEmpty() ? null : new JsonObject(kvs.get(0).getValue().toString(StandardCharsets.UTF_8)).getString("address");
        if (now != null && !now.equals(leader)) {
          log.info("This hub ({}) is a standby; the hub at {} leads", address, now);
        }
        leader = now;
        lastComplaint = null;
      });
  }

  /**
   * While leading, the lead ends exactly when the last renewal etcd answered runs out (sent + TTL), which is before
   * etcd can let the lease expire (it counts from when it received that renewal): a standby is elected only after.
   */
  private void armDeadline() {
    if (deadlineTimer >= 0) {
      vertx.cancelTimer(deadlineTimer);
      deadlineTimer = -1;
    }
    if (leading && !stopped) {
      // Rounded up, and one more: the tick it runs must find the validity over.
      long ms = Math.max(1, (validUntilNanos - System.nanoTime() + 999_999) / 1_000_000 + 1);
      deadlineTimer = vertx.setTimer(ms, t -> {
        deadlineTimer = -1;
        tick();
      });
    }
  }

  private void lost(String why) {
    lease = -1;
    leader = null;
    others = List.of();
    membersReadNanos = 0;
    if (leading) {
      leading = false;
      log.warn("This hub ({}) no longer leads: {}; it serves nothing and stands by", address, why);
      listener.deposed(why);
    }
  }

  /** Stands for election again only {@code ms} from now: a hub that refused to lead leaves the lead to the others. */
  void pause(long ms) {
    paused = true;
    pausedUntilNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
  }

  /** Deposed by a write that found another hub's key (or none): stand by under a new lease. */
  void deposedByWrite(String why) {
    long old = lease;
    lost(why);
    if (old >= 0) {
      client.getLeaseClient().revoke(old);
    }
  }

  private void complain(String why) {
    long now = System.nanoTime();
    if (!why.equals(lastComplaint) || now - lastComplaintNanos > TimeUnit.SECONDS.toNanos(5)) {
      log.warn("This hub ({}) {}", address, why);
      lastComplaint = why;
      lastComplaintNanos = now;
    }
  }

  /** Gives the lead up (a hub that stops): deletes its key, so that a standby takes over at once, and revokes its lease. */
  Future<Void> stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (deadlineTimer >= 0) {
      vertx.cancelTimer(deadlineTimer);
    }
    if (lease < 0) {
      return Future.succeededFuture();
    }
    long held = lease;
    Future<Void> resigned = !leading ? Future.succeededFuture()
      : etcd.call(client.getKVClient().txn().If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(revision)))
        .Then(Op.delete(key, DeleteOption.DEFAULT)).commit(), "the resignation").mapEmpty();
    leading = false;
    return resigned.transform(ar -> etcd.call(client.getLeaseClient().revoke(held), "the lease's revocation")).mapEmpty();
  }
}
