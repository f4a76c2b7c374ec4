// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import io.spoke.vertx.AuthenticationException;
import io.spoke.vertx.NotLeaderException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.VersionMismatchException;
import io.vertx.core.Future;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * The hubs an agent or a client may talk to: one hub, or the hubs of a highly available control plane, of which one
 * leads and the others are standbys. {@link #connect} tries the hub that answered last first, follows a standby's
 * {@link NotLeaderException} to the leader it names, and goes on to the next listed hub when one cannot be reached,
 * so a failover needs nothing of the caller but to connect again (at its own jittered intervals). Used on one
 * context at a time.
 */
public final class HubEndpoints {

  /** How many standbys' redirections one {@link #connect} follows before it tries the next listed hub. */
  static final int MAX_REDIRECTS = 2;
  /**
   * With several hubs, how long one hub may take to answer the handshake before the next is tried: a paused hub's
   * kernel still accepts connections, and nothing answers them.
   */
  static final long ATTEMPT_TIMEOUT_MS = 3_000;

  private final List<SocketAddress> hubs;
  /** The hub that welcomed the last connection, or that a standby named as the leader; tried first. */
  private SocketAddress preferred;

  /** @param hubs {@code host:port} each; at least one */
  public HubEndpoints(List<String> hubs) {
    if (hubs.isEmpty()) {
      throw new IllegalArgumentException("no hub address");
    }
    this.hubs = new ArrayList<>(hubs.size());
    for (String hub : hubs) {
      SocketAddress address = parse(hub);
      if (!this.hubs.contains(address)) {
        this.hubs.add(address);
      }
    }
  }

  /** The hubs {@code listed}, or the one at {@code host}:{@code port} when none are. */
  public static HubEndpoints of(List<String> listed, String host, int port) {
    return new HubEndpoints(listed.isEmpty() ? List.of(format(host, port)) : listed);
  }

  /** {@code host:port}, with an IPv6 host in brackets. */
  public static String format(String host, int port) {
    return (host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
  }

  /** {@code host:port} (the host in brackets for IPv6) as an address. */
  public static SocketAddress parse(String hostPort) {
    int colon = hostPort == null ? -1 : hostPort.lastIndexOf(':');
    if (colon <= 0 || colon == hostPort.length() - 1) {
      throw new IllegalArgumentException("a hub address is HOST:PORT, not '" + hostPort + "'");
    }
    String host = hostPort.substring(0, colon).trim();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(hostPort.substring(colon + 1).trim());
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (host.isEmpty() || port < 1 || port > 65535) {
      throw new IllegalArgumentException("a hub address is HOST:PORT with a port in 1..65535, not '" + hostPort + "'");
    }
    return SocketAddress.inetSocketAddress(port, host);
  }

  /** The listed hubs, as given. */
  public List<SocketAddress> hubs() {
    return List.copyOf(hubs);
  }

  /** The hub to name in messages: the one last connected to, or the first listed. */
  public SocketAddress current() {
    return preferred != null ? preferred : hubs.get(0);
  }

  /** The listed hubs as {@code a:1, b:2}. */
  public String describe() {
    StringBuilder text = new StringBuilder();
    for (SocketAddress hub : hubs) {
      text.append(text.length() == 0 ? "" : ", ").append(hub);
    }
    return text.toString();
  }

  /**
   * Connects to the hub that leads: completes with the first hub's welcome, or fails with the only hub's failure (one
   * listed), or with the first {@link AuthenticationException} or {@link VersionMismatchException} (the same would
   * come from every hub), or else with what each hub said: a {@link NotLeaderException} when hubs answered and none
   * leads, an {@link UnavailableException} when none answered. On the caller's context.
   */
  public Future<Connection> connect(NetClient client, ClientHello hello) {
    List<SocketAddress> order = new ArrayList<>(hubs.size() + 1);
    if (preferred != null) {
      order.add(preferred);
    }
    for (SocketAddress hub : hubs) {
      if (!order.contains(hub)) {
        order.add(hub);
      }
    }
    ClientHello each = hubs.size() > 1 && hello.timeoutMs() > ATTEMPT_TIMEOUT_MS ? hello.withTimeout(ATTEMPT_TIMEOUT_MS) : hello;
    return attempt(client, each, order, 0, 0, new ArrayList<>());
  }

  private Future<Connection> attempt(NetClient client, ClientHello hello, List<SocketAddress> order, int index, int redirects,
                                     List<Throwable> failures) {
    if (index >= order.size()) {
      return Future.failedFuture(giveUp(order, failures));
    }
    SocketAddress hub = order.get(index);
    return Connection.connect(client, hub, hello).map(connection -> {
      preferred = hub;
      return connection;
    }).recover(err -> {
      if (err instanceof AuthenticationException || err instanceof VersionMismatchException || hubs.size() == 1 && redirects == 0
        && !(err instanceof NotLeaderException)) {
        return Future.failedFuture(err);
      }
      failures.add(err);
      if (!(err instanceof NotLeaderException)) {
        // Not reached, or silent: tried last next time.
        if (hub.equals(preferred)) {
          preferred = null;
        }
        if (hubs.remove(hub)) {
          hubs.add(hub);
        }
      }
      int followed = redirects;
      if (err instanceof NotLeaderException && ((NotLeaderException) err).leader() != null && redirects < MAX_REDIRECTS) {
        SocketAddress leader;
        try {
          leader = parse(((NotLeaderException) err).leader());
        } catch (IllegalArgumentException e) {
          leader = null;
        }
        int at = leader == null ? -1 : order.indexOf(leader);
        // One already tried in this round (a hint older than the failover) is not tried again.
        if (leader != null && (at < 0 || at > index)) {
          if (at > index) {
            order.remove(at);
          }
          order.add(index + 1, leader);
          preferred = leader;
          followed++;
        }
      }
      return attempt(client, hello, order, index + 1, followed, failures);
    });
  }

  private Throwable giveUp(List<SocketAddress> order, List<Throwable> failures) {
    if (failures.size() == 1) {
      return failures.get(0);
    }
    StringBuilder said = new StringBuilder();
    boolean answered = false;
    for (Throwable failure : failures) {
      answered |= failure instanceof NotLeaderException;
      said.append(said.length() == 0 ? "" : "; ").append(failure.getMessage());
    }
    String message = "no hub of " + order.size() + " (" + describe() + ") leads" + (answered ? " now (a new leader may be being elected)"
      : ": none could be reached") + ": " + said;
    return answered ? new NotLeaderException(message, null) : new UnavailableException(message);
  }
}
