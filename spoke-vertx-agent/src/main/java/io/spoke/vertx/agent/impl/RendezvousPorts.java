// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import io.spoke.vertx.SchedulingException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The ports an agent hands out as gangs' MASTER_PORT: one per ticket, from a range kept apart from the
 * kernel's ephemeral ports (torch.distributed's default 29500 starts it), each checked free by binding it
 * and held for its ticket until the ticket is released. {@link #reserve} blocks (it binds sockets); {@link #release}
 * and {@link #held} do not, and may run on an event loop. Thread-safe.
 */
public final class RendezvousPorts {

  private final int first;
  private final int last;
  private final Map<String, Integer> byTicket = new ConcurrentHashMap<>();
  /** Ports held by managed processes for themselves alone (SPOKE_PORT_0..), by process id. */
  private final Map<String, List<Integer>> byProcess = new ConcurrentHashMap<>();
  /** Ports of gang ranks that exited, kept for a restart of the same process, and since when. */
  private final Map<String, List<Integer>> parked = new ConcurrentHashMap<>();
  private final Map<String, Long> parkedAt = new ConcurrentHashMap<>();
  /** How long an exited gang rank's ports stay aside for it. */
  static final long PARK_MS = 120_000;
  private int next;

  /** @param range {@code "FIRST-LAST"} */
  RendezvousPorts(String range) {
    int[] bounds = parse(range);
    this.first = bounds[0];
    this.last = bounds[1];
    this.next = first;
  }

  /** {@code [first, last]} of a {@code "FIRST-LAST"} range; throws {@link IllegalArgumentException} naming the option. */
  public static int[] parse(String range) {
    String[] parts = range.split("-");
    try {
      int a = Integer.parseInt(parts[0].trim());
      int b = Integer.parseInt(parts[parts.length - 1].trim());
      if (parts.length != 2 || a < 1 || b > 65535 || a > b) {
        throw new NumberFormatException();
      }
      return new int[] {a, b};
    } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
      throw new IllegalArgumentException("masterPortRange must be FIRST-LAST within 1-65535, got '" + range + "'");
    }
  }

  /** The ticket's port: the same one again if it has one. */
  synchronized int reserve(String ticket) throws IOException {
    Integer held = byTicket.get(ticket);
    if (held != null) {
      return held;
    }
    int span = last - first + 1;
    for (int i = 0; i < span; i++) {
      int port = next;
      next = next == last ? first : next + 1;
      if (taken(port) || !free(port)) {
        continue;
      }
      byTicket.put(ticket, port);
      return port;
    }
    throw new SchedulingException("no free port left in the rendezvous range " + first + "-" + last + " on this node ("
      + byTicket.size() + " held by tickets); widen --master-port-range");
  }

  /**
   * {@code count} ports for process {@code holder} alone, each free on every address now and distinct from every
   * other holder's; a {@link SchedulingException} when the range has not that many left.
   */
  synchronized List<Integer> reserveFor(String holder, int count) throws IOException {
    List<Integer> again = parked.remove(holder);
    if (again != null && again.size() == count) {
      // The same process started again soon after (its gang restarted): the same ports, as its peers expect.
      byProcess.put(holder, again);
      return again;
    }
    List<Integer> ports = new ArrayList<>(count);
    int span = last - first + 1;
    for (int i = 0; i < span && ports.size() < count; i++) {
      int port = next;
      next = next == last ? first : next + 1;
      if (!taken(port) && !ports.contains(port) && free(port)) {
        ports.add(port);
      }
    }
    if (ports.size() < count) {
      throw new SchedulingException(count + " ports asked for, and the node's port range " + first + "-" + last + " has only "
        + ports.size() + " free (" + (byTicket.size() + byProcess.values().stream().mapToInt(List::size).sum())
        + " held by tickets and processes); ask for fewer, or widen the agent's --master-port-range");
    }
    byProcess.put(holder, List.copyOf(ports));
    return ports;
  }

  /** Gives process {@code holder}'s ports back. */
  void releaseFor(String holder) {
    byProcess.remove(holder);
  }

  /**
   * Process {@code holder} (a gang rank) exited: its ports stay aside for {@value #PARK_MS} ms, for the same process
   * started again (a gang restart), then are free.
   */
  synchronized void park(String holder) {
    List<Integer> ports = byProcess.remove(holder);
    if (ports != null) {
      parked.put(holder, ports);
      parkedAt.put(holder, System.nanoTime());
    }
  }

  private void expireParked() {
    long now = System.nanoTime();
    parkedAt.entrySet().removeIf(e -> {
      boolean old = now - e.getValue() > PARK_MS * 1_000_000L;
      if (old) {
        parked.remove(e.getKey());
      }
      return old;
    });
  }

  private boolean taken(int port) {
    if (byTicket.containsValue(port)) {
      return true;
    }
    expireParked();
    for (List<Integer> ports : parked.values()) {
      if (ports.contains(port)) {
        return true;
      }
    }
    for (List<Integer> ports : byProcess.values()) {
      if (ports.contains(port)) {
        return true;
      }
    }
    return false;
  }

  /** Gives a holder's port back. Does not wait for a {@link #reserve} in progress. */
  void release(String ticket) {
    byTicket.remove(ticket);
  }

  /** Every held port by holder, sorted: what the agent reports to the hub when it registers. */
  Map<String, Integer> held() {
    return new TreeMap<>(byTicket);
  }

  /** Free on every address: rank 0 may bind the wildcard address. */
  private static boolean free(int port) throws IOException {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(false);
      socket.bind(new InetSocketAddress(port));
      return true;
    } catch (java.net.BindException e) {
      return false;
    }
  }
}
