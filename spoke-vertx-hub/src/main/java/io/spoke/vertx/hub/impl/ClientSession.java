// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.internal.net.Connection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A client as the hub knows it, across reconnections: the session id in its hello. Its tickets are
 * released when it has been disconnected for longer than the grace period.
 */
final class ClientSession {

  final String id;
  final Set<String> watched = new HashSet<>();
  final Set<String> tickets = new LinkedHashSet<>();
  Connection connection;
  long graceTimer = -1;

  ClientSession(String id) {
    this.id = id;
  }
}
