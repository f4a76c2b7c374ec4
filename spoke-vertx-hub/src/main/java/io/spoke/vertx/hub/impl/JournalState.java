// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a {@link TicketJournal} holds once read back ({@link TicketJournal#load}): its records folded, in order, into
 * the live tickets (each its last "allocated" record with the later records of it folded in), the released ids, and
 * the ad-hoc actors' nodes.
 */
final class JournalState {

  /** Live tickets by id, in journal order, each its last "allocated" record with later records folded in. */
  final Map<String, JsonObject> live = new LinkedHashMap<>();
  /** Released ticket ids, oldest first, at most {@link TicketDesk#RELEASED_KEPT}. */
  final Set<String> released = new LinkedHashSet<>();
  /** Ad-hoc actors and processes by id, and the node each runs on ({@link ActorLedger}). */
  final Map<String, String> actors = new LinkedHashMap<>();
  int lines;
  int skipped;

  void apply(JsonObject record) {
    String op = record.getString("op");
    if ("actor".equals(op) || "actorGone".equals(op)) {
      String actor = record.getString("actor");
      if (actor == null || ("actor".equals(op) && record.getString("node") == null)) {
        throw new IllegalArgumentException("an actor record without actor or node");
      }
      if ("actor".equals(op)) {
        actors.put(actor, record.getString("node"));
      } else {
        actors.remove(actor);
      }
      return;
    }
    String ticket = record.getString("ticket");
    if (ticket == null || op == null) {
      throw new IllegalArgumentException("a record without op or ticket");
    }
    JsonObject ticketRecord = live.get(ticket);
    switch (op) {
      case "allocated":
        live.remove(ticket);
        live.put(ticket, record);
        released.remove(ticket);
        break;
      case "launched":
        if (ticketRecord != null) {
          int rank = record.getInteger("rank");
          long ranks = (long) ticketRecord.getInteger("nodes", 0) * ticketRecord.getInteger("actorsPerNode", 0);
          if (rank < 0 || rank >= ranks) {
            throw new IllegalArgumentException("a launch of rank " + rank + " of a ticket of " + ranks + " ranks");
          }
          JsonArray recipes = ticketRecord.getJsonArray("recipes");
          if (recipes == null) {
            recipes = new JsonArray();
            ticketRecord.put("recipes", recipes);
          }
          while (recipes.size() <= rank) {
            recipes.addNull();
          }
          recipes.set(rank, record.getJsonObject("recipe"));
        }
        break;
      case "restart":
        if (ticketRecord != null) {
          ticketRecord.put("restarts", record.getInteger("restarts")).put("restarting", record.getBoolean("restarting"))
            .put("restartTimes", record.getJsonArray("times", new JsonArray()));
          if (record.getString("reason") != null) {
            ticketRecord.put("reason", record.getString("reason"));
          }
          if ("FAILED".equals(record.getString("state"))) {
            ticketRecord.put("state", "FAILED");
          }
        }
        break;
      case "failed":
        if (ticketRecord != null) {
          ticketRecord.put("state", "FAILED").put("reason", record.getString("reason"));
          JsonArray dead = ticketRecord.getJsonArray("deadNodes", new JsonArray());
          if (!dead.contains(record.getString("node"))) {
            dead.add(record.getString("node"));
          }
          ticketRecord.put("deadNodes", dead);
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

  /** The compacted journal: released ids, live tickets, then ad-hoc actors. */
  List<JsonObject> records() {
    List<JsonObject> records = new ArrayList<>(released.size() + live.size() + actors.size());
    for (String id : released) {
      records.add(TicketJournal.released(id));
    }
    records.addAll(live.values());
    actors.forEach((id, node) -> records.add(ActorLedger.placedRecord(id, node)));
    return records;
  }
}
