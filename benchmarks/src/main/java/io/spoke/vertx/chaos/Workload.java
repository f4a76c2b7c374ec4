// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.chaos;

import io.spoke.vertx.SpokeException;
import io.spoke.vertx.benchmarks.BenchActor;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.PlacementStrategy;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.TicketState;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the soak asks of the cluster while faults hit it, from one client on its own Vert.x context: calls to Java
 * actors with restart policies (each call checked: answered with its own bytes, or failed with a typed exception,
 * within its timeout), and a churn of gangs of process ranks (allocated, launched, released; some with a gang
 * restart, the others with per-rank restarts), each acknowledged ticket remembered so that none is lost. All its
 * state is confined to its context.
 */
final class Workload {

  static final int ACTORS = 4;
  static final long CALL_TIMEOUT_MS = 3_000;
  /** How late past its timeout a call may complete before it counts as hung. */
  static final long HANG_SLACK_MS = 5_000;
  static final int CALLS_IN_FLIGHT = 8;
  static final int LIVE_TICKETS = 3;
  /** Tickets (of one rank each) kept until the end, at most. */
  static final int KEPT_TICKETS = 2;
  private static final long FOREVER_NANOS = Long.MAX_VALUE / 4;

  /** A call in flight: when it must have completed by. */
  private record Call(long id, String actor, long deadlineNanos) {
  }

  /** An acknowledged ticket the soak holds: until when, and whether its release succeeded. */
  static final class Ticket {
    final String id;
    final long releaseAtNanos;
    boolean released;
    boolean releasing;
    String endedBy;

    Ticket(String id, long releaseAtNanos) {
      this.id = id;
      this.releaseAtNanos = releaseAtNanos;
    }
  }

  private final Vertx vertx;
  private final SpokeClient client;
  private final Path work;
  private final Random random;
  private final Violations violations;
  private final Map<Long, Call> inFlight = new ConcurrentHashMap<>();
  final Map<String, Ticket> tickets = new LinkedHashMap<>();
  final Map<String, Long> callFailures = new TreeMap<>();
  final AtomicLong callsOk = new AtomicLong();
  final AtomicLong ticketsAcknowledged = new AtomicLong();
  final AtomicLong ticketsRefused = new AtomicLong();
  final AtomicLong launchesFailed = new AtomicLong();
  private final Map<String, Boolean> actorsLive = new LinkedHashMap<>();
  private final java.util.Set<String> watching = new java.util.HashSet<>();
  private long nextCall;
  private long nextTicket;
  private volatile boolean churning = true;
  private boolean stopped;
  private long timer = -1;

  Workload(Vertx vertx, SpokeClient client, Path work, long seed, Violations violations) {
    this.vertx = vertx;
    this.client = client;
    this.work = work;
    this.random = new Random(seed);
    this.violations = violations;
    for (int i = 0; i < ACTORS; i++) {
      actorsLive.put("chaos-actor-" + i, false);
    }
    client.ticketHandler(allocation -> vertx.runOnContext(v -> ticketEvent(allocation)));
  }

  /** Starts the workload on the calling context: a tick every 10 ms. */
  void start() {
    timer = vertx.setPeriodic(10, t -> tick());
  }

  /** Stops starting new gangs (calls go on): the soak's quiet end lets the cluster settle. */
  void pauseChurn() {
    churning = false;
  }

  /** Calls past their deadline plus the slack: hung. */
  void checkHangs() {
    long now = System.nanoTime();
    for (Call call : inFlight.values()) {
      if (now - call.deadlineNanos() > HANG_SLACK_MS * 1_000_000L && inFlight.remove(call.id()) != null) {
        violations.add("call " + call.id() + " to " + call.actor() + " has not completed " + HANG_SLACK_MS + " ms after its "
          + CALL_TIMEOUT_MS + " ms timeout");
      }
    }
  }

  private void tick() {
    if (stopped) {
      return;
    }
    for (Map.Entry<String, Boolean> actor : actorsLive.entrySet()) {
      if (!actor.getValue()) {
        actor.setValue(true);
        spawnActor(actor.getKey());
      }
    }
    while (inFlight.size() < CALLS_IN_FLIGHT) {
      call();
    }
    long now = System.nanoTime();
    for (Ticket ticket : new ArrayList<>(tickets.values())) {
      if (!ticket.released && !ticket.releasing && now - ticket.releaseAtNanos > 0) {
        release(ticket);
      }
    }
    long live = tickets.values().stream().filter(t -> !t.released && t.releaseAtNanos - now < FOREVER_NANOS / 2).count();
    if (churning && live < LIVE_TICKETS && random.nextInt(20) == 0) {
      allocate();
    }
  }

  private void spawnActor(String id) {
    SpawnOptions options = new SpawnOptions().setGpus(id.endsWith("0") || id.endsWith("1") ? 1 : 0)
      .setRestart(RestartPolicy.always(1_000_000).withBackoffMs(200)).setTimeout(60_000);
    client.spawn("BenchEcho", id, options).onComplete(ar -> {
      if (ar.failed()) {
        // Taken (it runs already, from before a fault) or refused now: watched, and spawned again once it has ended.
        vertx.setTimer(1_000, t -> watch(id));
      }
      if (ar.failed() && !(ar.cause() instanceof SpokeException)) {
        violations.add("spawn of " + id + " failed with an untyped " + ar.cause());
      }
    });
  }

  /** Spawns {@code id} again once the hub no longer has it alive (one watch per actor at a time). */
  private void watch(String id) {
    if (!watching.add(id)) {
      return;
    }
    client.resolve(id).onComplete(ar -> {
      watching.remove(id);
      boolean gone = ar.failed() ? ar.cause() instanceof io.spoke.vertx.ActorNotFoundException : ar.result().state() == ActorState.EXITED;
      if (gone) {
        actorsLive.put(id, false);
      } else {
        vertx.setTimer(1_000, t -> watch(id));
      }
    });
  }

  private void call() {
    long id = ++nextCall;
    String actor = "chaos-actor-" + random.nextInt(ACTORS);
    Buffer request = Buffer.buffer(16).appendLong(id).appendLong(System.nanoTime());
    inFlight.put(id, new Call(id, actor, System.nanoTime() + CALL_TIMEOUT_MS * 1_000_000L));
    client.call(actor, BenchActor.ECHO, request).onComplete(ar -> {
      if (inFlight.remove(id) == null) {
        return; // counted as hung already
      }
      if (ar.succeeded()) {
        if (ar.result().length() != 16 || ar.result().getLong(0) != id) {
          violations.add("call " + id + " to " + actor + " was answered with another call's bytes");
        } else {
          callsOk.incrementAndGet();
        }
        return;
      }
      Throwable cause = ar.cause();
      if (!(cause instanceof SpokeException)) {
        violations.add("call " + id + " to " + actor + " failed with an untyped " + cause);
      }
      callFailures.merge(cause.getClass().getSimpleName(), 1L, Long::sum);
      if (cause instanceof io.spoke.vertx.ActorNotFoundException || cause instanceof io.spoke.vertx.ActorDeadException) {
        watch(actor);
      }
    });
  }

  /** Tickets held until the end, not released yet. */
  private long kept() {
    long now = System.nanoTime();
    return tickets.values().stream().filter(t -> !t.released && t.releaseAtNanos - now > FOREVER_NANOS / 2).count();
  }

  private void allocate() {
    String id = "t-" + (++nextTicket);
    // Some are kept to the end: the end checks that the hub still has every ticket it acknowledged.
    boolean keep = kept() < KEPT_TICKETS && random.nextInt(3) == 0;
    int nodes = keep ? 1 : 1 + random.nextInt(2);
    int perNode = keep ? 1 : 1 + random.nextInt(2);
    boolean gangRestart = random.nextInt(3) == 0;
    GangRequest request = new GangRequest().setTicketId(id).setNodes(nodes).setActorsPerNode(perNode).setGpus(1).setTimeout(10_000)
      .setStrategy(nodes > 1 ? PlacementStrategy.STRICT_SPREAD : PlacementStrategy.PACK)
      .setRestart(gangRestart ? RestartPolicy.onFailure(5).withBackoffMs(200) : RestartPolicy.never());
    long lifetimeNanos = keep ? FOREVER_NANOS : (3_000 + random.nextInt(5_000)) * 1_000_000L;
    client.gangAllocate(request).onComplete(ar -> {
      if (ar.failed()) {
        ticketsRefused.incrementAndGet();
        if (!(ar.cause() instanceof SpokeException)) {
          violations.add("allocation of " + id + " failed with an untyped " + ar.cause());
        }
        return;
      }
      ticketsAcknowledged.incrementAndGet();
      Ticket ticket = new Ticket(id, System.nanoTime() + lifetimeNanos);
      tickets.put(id, ticket);
      for (int rank = 0; rank < ar.result().worldSize(); rank++) {
        launch(ticket, rank, gangRestart);
      }
    });
  }

  private void launch(Ticket ticket, int rank, boolean gangRestart) {
    Path workdir = work.resolve(ticket.id + "-" + rank);
    try {
      Files.createDirectories(workdir);
    } catch (java.io.IOException e) {
      violations.add("cannot make a working directory: " + e);
      return;
    }
    ProcessSpec spec = new ProcessSpec(List.of("sh", "-c", "exec sleep 3600")).setWorkdir(workdir.toString()).setStopGraceMs(500);
    SpawnOptions options = new SpawnOptions().setTimeout(20_000)
      .setRestart(gangRestart ? RestartPolicy.never() : RestartPolicy.onFailure(3).withBackoffMs(200));
    client.launchProcess(ticket.id, rank, ticket.id + "-rank-" + rank, spec, options).onComplete(ar -> {
      if (ar.failed()) {
        launchesFailed.incrementAndGet();
        if (!(ar.cause() instanceof SpokeException)) {
          violations.add("launch of " + ticket.id + " rank " + rank + " failed with an untyped " + ar.cause());
        }
      }
    });
  }

  private void release(Ticket ticket) {
    ticket.releasing = true;
    client.release(ticket.id).onComplete(ar -> {
      ticket.releasing = false;
      if (ar.succeeded()) {
        ticket.released = true;
      } else if (ar.cause() instanceof io.spoke.vertx.TicketNotFoundException && ticket.endedBy != null) {
        ticket.released = true;
      }
      // Otherwise (the hub unreachable, restarting): tried again at the next tick.
    });
  }

  private void ticketEvent(Allocation allocation) {
    Ticket ticket = tickets.get(allocation.ticketId());
    if (ticket == null) {
      return;
    }
    if (allocation.state() == TicketState.RELEASED || allocation.state() == TicketState.FAILED) {
      if (allocation.reason() == null || allocation.reason().isBlank()) {
        violations.add("ticket " + ticket.id + " ended (" + allocation.state() + ") without a reason");
      }
      ticket.endedBy = allocation.state() + ": " + allocation.reason();
    }
  }

  /**
   * Every acknowledged ticket the soak has not released is still the hub's, live or failed with a reason, as {@code
   * listed} (the hub's tickets now) says: none is lost.
   */
  void checkTickets(List<Allocation> listed) {
    Map<String, Allocation> byId = new TreeMap<>();
    listed.forEach(a -> byId.put(a.ticketId(), a));
    for (Ticket ticket : tickets.values()) {
      if (ticket.released || ticket.endedBy != null) {
        continue;
      }
      Allocation now = byId.get(ticket.id);
      if (now == null) {
        violations.add("ticket " + ticket.id + " was acknowledged, not released, and the hub no longer has it");
      } else if (now.state() == TicketState.FAILED && (now.reason() == null || now.reason().isBlank())) {
        violations.add("ticket " + ticket.id + " failed without a reason");
      }
    }
  }

  /** Releases every ticket and stops every actor; completes when the hub has answered each (or after 60 s). */
  Future<Void> stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    List<Future<Void>> ends = new ArrayList<>();
    for (Ticket ticket : tickets.values()) {
      if (!ticket.released) {
        ends.add(client.release(ticket.id).otherwiseEmpty());
      }
    }
    for (String actor : actorsLive.keySet()) {
      ends.add(client.stop(actor).otherwiseEmpty());
    }
    return Future.join(ends).mapEmpty();
  }

  /** The actors' restarts the hub counts now, for the report. */
  static long restarts(List<ActorInfo> actors) {
    return actors.stream().mapToLong(ActorInfo::restarts).sum();
  }

  long inFlight() {
    return inFlight.size();
  }
}
