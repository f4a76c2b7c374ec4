// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import com.google.flatbuffers.FlatBufferBuilder;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.protocol.fb.ReleasePort;
import io.spoke.vertx.protocol.fb.ReservePort;
import io.spoke.vertx.protocol.fb.TicketEvent;
import io.spoke.vertx.protocol.fb.TicketList;
import java.util.List;

/**
 * The bodies of the hub's ticket messages: to clients (a ticket's change, a list of tickets) and to agents (rendezvous
 * ports), written for the codecs of this package ({@code HubClientCodec}, {@code AgentHubCodec}).
 */
final class TicketCodec {

  private TicketCodec() {
  }

  /** A change of a ticket the client owns (it failed, say), pushed to it. */
  static int writeTicketEvent(FlatBufferBuilder b, Allocation allocation) {
    return TicketEvent.createTicketEvent(b, Messages.writeAllocation(b, allocation, null));
  }

  /** The answer to a client's Tickets. */
  static int writeTicketList(FlatBufferBuilder b, List<Allocation> tickets) {
    int[] offsets = new int[tickets.size()];
    for (int i = 0; i < offsets.length; i++) {
      offsets[i] = Messages.writeAllocation(b, tickets.get(i), null);
    }
    return TicketList.createTicketList(b, TicketList.createTicketsVector(b, offsets));
  }

  /** Asks an agent to reserve a free port on its node for {@code holder} (a ticket's rendezvous port, or a lease). */
  static int writeReservePort(FlatBufferBuilder b, String holder) {
    return ReservePort.createReservePort(b, b.createString(holder));
  }

  /** Tells an agent that {@code holder} no longer needs its port. */
  static int writeReleasePort(FlatBufferBuilder b, String holder) {
    return ReleasePort.createReleasePort(b, b.createString(holder));
  }
}
