// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.hub.scheduler.GangPlacement;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.HubClientCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Tickets as clients see them: {@link Allocation}s and their {@link Slot}s, with the state of each rank's actor. */
final class TicketViews {

  private final HubState state;
  private final ActorDirectory directory;

  TicketViews(HubState state, ActorDirectory directory) {
    this.state = state;
    this.directory = directory;
  }

  /** A ticket as its owner sees it. */
  Allocation allocation(TicketRecord ticket) {
    List<Slot> slots = new ArrayList<>();
    if (ticket.placement != null) {
      for (GangPlacement.Rank rank : ticket.placement.ranks()) {
        slots.add(slot(ticket, rank));
      }
    }
    return new Allocation(ticket.id, ticket.state, ticket.spec.strategy(), ticket.detached, slots, ticket.reason)
      .withRestarts(ticket.restart, ticket.history.total());
  }

  /** A rank of a ticket as its owner sees it: where it is, its GPUs and rendezvous, the actor in it. */
  Slot slot(TicketRecord ticket, GangPlacement.Rank rank) {
    NodeRecord node = state.nodes.get(rank.nodeId());
    List<Integer> gpus = new ArrayList<>();
    for (int gpu : rank.reservation().gpuIds()) {
      gpus.add(gpu);
    }
    String actorId = ticket.actors[rank.rank()];
    ActorInfo actor = actorId == null ? null : directory.actorInfo(actorId);
    return new Slot(ticket.id, rank.rank(), ticket.spec.worldSize(), rank.localRank(), rank.localWorldSize(), rank.nodeId(),
      node == null ? null : node.host, gpus, ticket.masterAddr, ticket.masterPort, actorId,
      actor == null ? (actorId == null ? null : ActorState.EXITED) : actor.state());
  }

  /** Answers a client's ticket list: its own tickets, or all of them. */
  void list(Connection client, ClientSession session, long requestId, boolean everyone, Map<String, TicketRecord> tickets) {
    List<Allocation> list = new ArrayList<>();
    for (TicketRecord ticket : tickets.values()) {
      if (everyone || ticket.owner == session) {
        list.add(allocation(ticket));
      }
    }
    client.reply(requestId, HubClientCodec.ticketList(list), null);
  }

  /** Every live ticket, for the cluster status. */
  List<Allocation> all(Map<String, TicketRecord> tickets) {
    List<Allocation> list = new ArrayList<>(tickets.size());
    for (TicketRecord ticket : tickets.values()) {
      list.add(allocation(ticket));
    }
    return list;
  }
}
