// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.SchedulingException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Liveness;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.hub.scheduler.Reservation;
import io.spoke.vertx.hub.scheduler.Resources;
import io.spoke.vertx.internal.net.Connection;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Ad-hoc spawns, placed at once or, when they asked to wait ({@code SpawnOptions.setWaitForResources}), kept in
 * order until a node registers or an actor frees what they need, within their timeout (the wait counts against it).
 * A waiting spawn whose client goes away is dropped. Tried again after the gang queue ({@link TicketDesk#drain}).
 * On the hub's loop.
 */
final class SpawnQueue {

  private static final Logger log = LogManager.getLogger(SpawnQueue.class);

  /** A spawn read off its frame (released once handled): what placing and starting it takes. */
  record Request(Connection client, ClientSession session, long requestId, String actorId, String actorType, String nodeId,
                 Resources resources, Map<String, String> env, List<String> jvmOptions, long timeoutMs, Buffer args,
                 ProcessSpec process, RestartPolicy restart, Liveness liveness, boolean waitForResources, long receivedAtNanos) {
  }

  private static final class Waiting {

    final Request request;
    /** Whether {@code request}'s arguments are its own copy rather than a view of its frame. */
    boolean argsOwned;
    long timer = -1;
    String why;

    Waiting(Request request, String why) {
      this.request = request;
      this.why = why;
    }
  }

  private final HubState state;
  private final ActorDirectory directory;
  private final Map<String, Waiting> waiting = new LinkedHashMap<>();

  SpawnQueue(HubState state, ActorDirectory directory) {
    this.state = state;
    this.directory = directory;
  }

  void submit(Request r) {
    if (waiting.containsKey(r.actorId())) {
      r.client().replyFailure(r.requestId(), new io.spoke.vertx.DuplicateActorException("actor id '" + r.actorId()
        + "' is taken by a spawn that waits for resources; choose another id"));
      return;
    }
    Reservation reservation;
    try {
      reservation = state.scheduler.allocate(r.resources(), r.nodeId());
    } catch (RuntimeException e) {
      if (!r.waitForResources()) {
        r.client().replyFailure(r.requestId(), e);
        return;
      }
      // The arguments are a view of the frame, which is released once this returns: the waiting spawn keeps a copy.
      Waiting w = new Waiting(r.args() == null ? r : withArgs(r, r.args().copy()), e.getMessage());
      w.argsOwned = true;
      waiting.put(r.actorId(), w);
      w.timer = state.vertx.setTimer(Math.max(1, r.timeoutMs()), t -> expired(w));
      log.info("Spawn of {} waits for resources ({}), {} waiting", r.actorId(), e.getMessage(), waiting.size());
      return;
    }
    start(r, reservation, false);
  }

  /** Resources were freed or a node registered: waiting spawns that fit now start, in the order they came. */
  void drain() {
    for (Iterator<Waiting> it = waiting.values().iterator(); it.hasNext(); ) {
      Waiting w = it.next();
      Request r = w.request;
      if (r.client().isClosed()) {
        it.remove();
        state.vertx.cancelTimer(w.timer);
        continue;
      }
      Reservation reservation;
      try {
        reservation = state.scheduler.allocate(r.resources(), r.nodeId());
      } catch (RuntimeException e) {
        w.why = e.getMessage();
        continue;
      }
      it.remove();
      state.vertx.cancelTimer(w.timer);
      if (directory.refuseDuplicate(r.client(), r.requestId(), r.actorId())) {
        state.scheduler.release(reservation);
        continue;
      }
      start(r, reservation, w.argsOwned);
    }
  }

  private void expired(Waiting w) {
    if (waiting.remove(w.request.actorId(), w)) {
      Request r = w.request;
      r.client().replyFailure(r.requestId(), new SchedulingException("spawn of " + r.actorId() + " waited " + r.timeoutMs()
        + " ms for resources and none came: " + w.why));
    }
  }

  /**
   * Starts {@code r} on its reservation, within what is left of its timeout. An actor with a restart policy keeps its
   * launch, to start it again elsewhere if its node dies: with its own copy of the arguments, made here unless
   * {@code argsOwned} says {@code r} has one already.
   */
  private void start(Request r, Reservation reservation, boolean argsOwned) {
    NodeRecord node = state.nodes.get(reservation.nodeId());
    List<Integer> gpuIds = new ArrayList<>();
    for (int gpu : reservation.gpuIds()) {
      gpuIds.add(gpu);
    }
    ActorInfo starting = new ActorInfo(r.actorId(), r.actorType(), node.id, node.host, 0, 0, null, ActorState.STARTING, -1, null, gpuIds);
    if (r.process() != null) {
      starting = starting.withProcess(r.process().getCommand(), List.of());
    }
    ActorRecord record = new ActorRecord(starting, node.id, reservation);
    long waitedMs = (System.nanoTime() - r.receivedAtNanos()) / 1_000_000;
    long timeoutMs = Math.max(1, r.timeoutMs() - waitedMs);
    boolean kept = r.restart().mode() != RestartPolicy.Mode.NEVER;
    Buffer args = kept && !argsOwned && r.args() != null ? r.args().copy() : r.args();
    ActorLaunch launch = new ActorLaunch(r.client(), r.session(), r.requestId(), record, node, r.env(), r.jvmOptions(), timeoutMs, args,
      null, () -> { }, r.process(), r.restart(), r.liveness());
    if (kept) {
      record.launch = launch;
      record.resources = r.resources();
    }
    directory.startActor(launch);
  }

  private static Request withArgs(Request r, Buffer args) {
    return new Request(r.client(), r.session(), r.requestId(), r.actorId(), r.actorType(), r.nodeId(), r.resources(), r.env(),
      r.jvmOptions(), r.timeoutMs(), args, r.process(), r.restart(), r.liveness(), r.waitForResources(), r.receivedAtNanos());
  }
}
