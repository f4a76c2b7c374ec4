// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

/**
 * Where the hub records its tickets before it answers for them: the {@link TicketJournal} in its state directory, or
 * etcd ({@link EtcdStateLog}) for a highly available control plane. Records are those {@link JournalRecords} and
 * {@link TicketJournal} make, and read back through {@link JournalState}. On the hub's event loop.
 */
interface StateLog {

  /** Records {@code record}; completes once it is durable, or fails if it could not be recorded. */
  Future<Void> append(JsonObject record);

  /** Completes once everything appended so far is durable (or has failed, which {@link #broken} then says). */
  Future<Void> sync();

  /** Why nothing can be recorded now, or null while records are taken. */
  String broken();

  /** What the log is, for messages: "the ticket journal /var/spoke/tickets.journal", "etcd at ...". */
  String where();

  /** What a user should check when it is broken. */
  String advice();

  /** Records what is queued, then lets go of the store. */
  Future<Void> close();
}
