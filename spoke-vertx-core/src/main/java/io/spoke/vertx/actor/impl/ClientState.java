// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor.impl;

import io.netty.util.collection.LongObjectHashMap;
import io.spoke.vertx.internal.net.Connection;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** What the runtime keeps per client connection (its {@link Connection#attachment()}). */
final class ClientState {

  final Set<Integer> mailboxes = new LinkedHashSet<>();
  final LongObjectHashMap<StreamPump> streams = new LongObjectHashMap<>();
  /** RDMA connections opened through this (TCP) connection: they live no longer than it. */
  final List<Connection> rdma = new ArrayList<>(1);
}
