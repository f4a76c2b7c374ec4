// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Which node runs each ad-hoc actor and process, in the hub's state log (the journal, or etcd), so that a hub that
 * takes over (a restart, a new leader) knows the ids that are taken before their agents come back. Without it, a
 * spawn of such an id in that gap is placed again elsewhere, and the instance that ran all along is stopped as a
 * duplicate when its agent returns. Until a node registers (or the restore window ends), its actors are
 * <em>expected</em>: a spawn of one is refused as a duplicate, and resolving, calling or stopping one is answered
 * "unavailable, ask again". A node's registration settles them: those it runs are the hub's again, the others ended
 * while no hub heard. Node liveness and the instances themselves stay soft state (agents report them).
 * Records: {@code {"op":"actor","actor":ID,"node":NODE}} and {@code {"op":"actorGone","actor":ID}}; written as the
 * hub places, adopts and forgets actors, not waited for (the start they go with takes longer). On the hub's loop.
 */
final class ActorLedger {

  private static final Logger log = LogManager.getLogger(ActorLedger.class);

  private StateLog stateLog;
  /** What the log holds: actor id to node. */
  private final Map<String, String> recorded = new HashMap<>();
  /** Restored from the log, not yet reported by their node: actor id to node. */
  private final Map<String, String> expected = new HashMap<>();

  static JsonObject placedRecord(String actorId, String nodeId) {
    return new JsonObject().put("op", "actor").put("actor", actorId).put("node", nodeId);
  }

  static JsonObject goneRecord(String actorId) {
    return new JsonObject().put("op", "actorGone").put("actor", actorId);
  }

  /** From now on the ledger writes to {@code log}; {@code restored}'s actors are expected until their nodes register. */
  void open(StateLog log, Map<String, String> restored) {
    this.stateLog = log;
    recorded.putAll(restored);
    expected.putAll(restored);
    if (!restored.isEmpty()) {
      ActorLedger.log.info("{} ad-hoc actors and processes are expected back with their nodes", restored.size());
    }
  }

  /** The node an actor the hub has not heard of yet runs on, as the log says; null when none is expected. */
  String expectedNode(String actorId) {
    return expected.get(actorId);
  }

  /** An ad-hoc actor placed on (or adopted from) {@code nodeId}. */
  void placed(String actorId, String nodeId) {
    expected.remove(actorId);
    if (stateLog != null && !nodeId.equals(recorded.put(actorId, nodeId))) {
      write(placedRecord(actorId, nodeId));
    }
  }

  /** The hub forgets {@code actorId} (it ended, was stopped, or is not kept). */
  void gone(String actorId) {
    expected.remove(actorId);
    if (stateLog != null && recorded.remove(actorId) != null) {
      write(goneRecord(actorId));
    }
  }

  /** {@code nodeId} registered and was reconciled: its expected actors that the hub does not hold now ended meanwhile. */
  void nodeRegistered(String nodeId, Predicate<String> held) {
    List<String> ended = new ArrayList<>();
    for (Iterator<Map.Entry<String, String>> it = expected.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, String> e = it.next();
      if (e.getValue().equals(nodeId)) {
        it.remove();
        if (!held.test(e.getKey())) {
          ended.add(e.getKey());
        }
      }
    }
    if (!ended.isEmpty()) {
      log.info("Node {} no longer runs {} (ended while no hub heard)", nodeId, ended);
      ended.forEach(this::gone);
    }
  }

  /** The restore window is over: actors of nodes that did not come back are gone with them. */
  void windowOver() {
    if (!expected.isEmpty()) {
      log.warn("{} expected actors did not come back with their nodes: {}", expected.size(), expected);
      new ArrayList<>(expected.keySet()).forEach(this::gone);
    }
  }

  /** What the log must keep, for a compaction or a repair. */
  List<JsonObject> records() {
    List<JsonObject> records = new ArrayList<>(recorded.size());
    recorded.forEach((id, node) -> records.add(placedRecord(id, node)));
    return records;
  }

  private void write(JsonObject record) {
    stateLog.append(record).onFailure(err -> log.debug("Could not record {} in {}: {} (repaired with the rest)", record.encode(),
      stateLog.where(), err.getMessage()));
  }
}
