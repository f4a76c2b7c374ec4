// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import io.spoke.vertx.internal.CommandLine;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The client commands of {@code ./spoke}:
 * <pre>
 *   spoke status [--hub HOST:PORT[,HOST:PORT...]] [--json]       nodes with free and used GPUs, tickets, actors
 *   spoke logs ACTOR_ID [-f] [--hub HOST:PORT[,HOST:PORT...]]    an actor's log, read through the hub from its node
 * </pre>
 * Both take {@code --token-file F} (else {@code SPOKE_TOKEN}) and {@code --tls-ca F} for a secured cluster.
 */
public final class ClientMain {

  static final String USAGE = "usage: spoke status [--hub HOST:PORT[,HOST:PORT...]] [--json] [--watch] [--token-file F] [--tls-ca F]\n"
    + "       spoke logs ACTOR_ID [-f] [--hub HOST:PORT[,HOST:PORT...]] [--token-file F] [--tls-ca F]\n"
    + "  (the cluster token comes from --token-file, else SPOKE_TOKEN)";
  static final int CHUNK = 256 * 1024;
  static final long FOLLOW_INTERVAL_MS = 500;
  static final long WATCH_INTERVAL_MS = 1_000;

  private ClientMain() {
  }

  public static void main(String[] args) throws Exception {
    List<String> list = new ArrayList<>(Arrays.asList(args));
    String command = list.isEmpty() ? "" : list.remove(0);
    if (!command.equals("status") && !command.equals("logs")) {
      System.err.println(USAGE);
      System.exit(2);
    }
    if (list.contains("--help") || list.contains("-h")) {
      System.out.println(USAGE);
      System.exit(0);
    }
    boolean json = list.remove("--json");
    boolean follow = list.remove("-f") | list.remove("--follow");
    boolean watch = list.remove("-w") | list.remove("--watch");
    SpokeClientOptions options = new SpokeClientOptions().setConnectTimeout(5_000).setRequestTimeout(10_000);
    String actorId = null;
    try {
      String hub = CommandLine.take(list, "hub");
      if (hub != null) {
        options = new SpokeClientOptions(options.toJson().mergeIn(CommandLine.hubs("hub", hub)));
      }
      options.getSecurity().setTokenFile(CommandLine.take(list, "token-file")).setTlsCa(CommandLine.take(list, "tls-ca"));
      if (command.equals("logs")) {
        if (list.size() != 1) {
          throw new IllegalArgumentException("logs takes one actor id");
        }
        actorId = list.remove(0);
      }
      if (!list.isEmpty()) {
        throw new IllegalArgumentException("unexpected argument " + list.get(0));
      }
    } catch (IllegalArgumentException e) {
      System.err.println("spoke " + command + ": " + e.getMessage() + "\n" + USAGE);
      System.exit(2);
    }
    SpokeClient client = SpokeClient.create(options);
    int status = 0;
    try {
      if (command.equals("status") && watch) {
        watch(client, json, System.out);
      } else if (command.equals("status")) {
        ClusterStatus cluster = client.status().await(15, TimeUnit.SECONDS);
        if (json) {
          System.out.println(cluster.toJson().encodePrettily());
        } else {
          print(cluster, System.out);
        }
      } else {
        printLog(client, actorId, follow, System.out);
      }
    } catch (Exception e) {
      System.err.println("spoke " + command + ": " + e.getMessage());
      status = 1;
    } finally {
      client.close().await(10, TimeUnit.SECONDS);
    }
    System.exit(status);
  }

  /**
   * {@code spoke status --watch}: the status again every {@link #WATCH_INTERVAL_MS} ms, over the last one on a
   * terminal, until interrupted; a hub that does not answer is said, and asked again.
   */
  static void watch(SpokeClient client, boolean json, PrintStream out) throws InterruptedException {
    boolean terminal = System.console() != null;
    while (!Thread.currentThread().isInterrupted()) {
      String shown;
      try {
        ClusterStatus cluster = client.status().await(5, TimeUnit.SECONDS);
        java.io.ByteArrayOutputStream buffer = new java.io.ByteArrayOutputStream();
        PrintStream page = new PrintStream(buffer, true, java.nio.charset.StandardCharsets.UTF_8);
        if (json) {
          page.println(cluster.toJson().encode());
        } else {
          print(cluster, page);
        }
        shown = buffer.toString(java.nio.charset.StandardCharsets.UTF_8);
      } catch (Exception e) {
        shown = "the hub does not answer: " + e.getMessage() + "\n";
      }
      // On a terminal, the new status replaces the old one; piped, each one follows the last.
      out.print((terminal ? "\033[H\033[2J" : "") + "Every " + WATCH_INTERVAL_MS / 1000.0 + " s, " + java.time.LocalTime.now()
        .withNano(0) + " (Ctrl-C to stop)\n" + shown + (terminal ? "" : "\n"));
      out.flush();
      Thread.sleep(WATCH_INTERVAL_MS);
    }
  }

  /** Prints an actor's log from the start; with {@code follow}, keeps printing what it appends while it runs. */
  static void printLog(SpokeClient client, String actorId, boolean follow, PrintStream out) throws Exception {
    long offset = 0;
    while (true) {
      ActorLog chunk = client.readLog(actorId, offset, CHUNK).await(15, TimeUnit.SECONDS);
      out.write(chunk.data().getBytes());
      out.flush();
      offset = chunk.nextOffset();
      if (offset < chunk.size()) {
        continue;
      }
      if (!follow || !chunk.running()) {
        return;
      }
      Thread.sleep(FOLLOW_INTERVAL_MS);
    }
  }

  /** The cluster as tables: its hubs (where several run), nodes with their free and used GPUs, tickets, actors, processes. */
  public static void print(ClusterStatus cluster, PrintStream out) {
    if (!cluster.hubs().isEmpty()) {
      out.println("Hubs: " + cluster.hubs().size());
      for (HubInfo hub : cluster.hubs()) {
        out.printf("  %-24s %s%n", hub.address(), hub.leader() ? "leader" : "standby");
      }
    }
    out.println("Nodes: " + cluster.nodes().size());
    out.printf("  %-24s %-22s %-6s %-10s %-18s %-9s %-15s %s%n", "NODE", "ADDRESS", "STATE", "GPUS FREE", "FREE GPU IDS", "CPUS FREE",
      "MEMORY FREE", "ACTORS");
    for (NodeInfo node : cluster.nodes()) {
      List<Integer> used = node.gpus().stream().map(g -> g.index()).filter(i -> !node.freeGpus().contains(i)).collect(Collectors.toList());
      out.printf("  %-24s %-22s %-6s %-10s %-18s %-9s %-15s %d%n", node.id(), node.host() + ":" + node.port(),
        node.alive() ? "alive" : "dead", node.freeGpus().size() + "/" + node.gpus().size(), ids(node.freeGpus()),
        node.freeCpus() + "/" + node.cpus(), node.freeMemoryMb() + "/" + node.memoryMb(), node.actors());
      if (!used.isEmpty()) {
        out.printf("  %-24s used GPU ids: %s%n", "", ids(used));
      }
    }
    out.println("Tickets: " + cluster.tickets().size());
    for (Allocation ticket : cluster.tickets()) {
      out.printf("  %-16s %-10s %-13s ranks %d%s%s%s%n", ticket.ticketId(), ticket.state().name().toLowerCase(),
        ticket.strategy().name().toLowerCase(), ticket.worldSize(),
        ticket.masterAddr() == null ? "" : ", master " + ticket.masterAddr() + ":" + ticket.masterPort(),
        ticket.restart().mode() == RestartPolicy.Mode.NEVER ? ""
          : ", gang restarts " + ticket.restarts() + "/" + ticket.restart().maxRestarts() + " (" + ticket.restart().mode().name()
          .toLowerCase().replace('_', '-') + ")",
        ticket.reason() == null ? "" : " (" + ticket.reason() + ")");
      for (Slot slot : ticket.slots()) {
        out.printf("    rank %-4d %-24s local %d/%d  GPUs %-10s %s%n", slot.globalRank(), slot.nodeId(), slot.localRank(),
          slot.localWorldSize(), ids(slot.gpuIds()), slot.actorId() == null ? "" : slot.actorId() + " (" + slot.actorState().name()
          .toLowerCase() + ")");
      }
    }
    List<ActorInfo> actors = cluster.actors().stream().filter(a -> !a.isProcess()).collect(Collectors.toList());
    List<ActorInfo> processes = cluster.actors().stream().filter(ActorInfo::isProcess).collect(Collectors.toList());
    out.println("Actors: " + actors.size());
    if (!actors.isEmpty()) {
      out.printf("  %-20s %-16s %-24s %-10s %-8s %-22s %-6s %s%n", "ID", "TYPE", "NODE", "STATE", "PID", "ENDPOINT", "GPUS", "RESTARTS");
      for (ActorInfo actor : actors) {
        out.printf("  %-20s %-16s %-24s %-10s %-8d %-22s %-6s %s%n", actor.id(), actor.type(), actor.nodeId(),
          actor.state().name().toLowerCase(), actor.pid(), actor.host() + ":" + actor.port(), ids(actor.gpuIds()), restarts(actor));
      }
    }
    out.println("Processes: " + processes.size());
    if (!processes.isEmpty()) {
      out.printf("  %-20s %-24s %-10s %-8s %-10s %-14s %-9s %s%n", "ID", "NODE", "STATE", "PID", "GPUS", "PORTS", "RESTARTS", "COMMAND");
      for (ActorInfo p : processes) {
        String command = String.join(" ", p.command());
        out.printf("  %-20s %-24s %-10s %-8d %-10s %-14s %-9s %s%n", p.id(), p.nodeId(), p.state().name().toLowerCase(), p.pid(),
          ids(p.gpuIds()), ids(p.ports()), restarts(p), command.length() > 80 ? command.substring(0, 77) + "..." : command);
      }
    }
  }

  /** How many times it restarted, and, while it restarts, how its last instance ended. */
  private static String restarts(ActorInfo info) {
    String count = info.restarts() == 0 ? "-" : String.valueOf(info.restarts());
    return info.state() == ActorState.RESTARTING && info.reason() != null ? count + " (" + info.reason() + ")" : count;
  }

  private static String ids(List<Integer> ids) {
    return ids.isEmpty() ? "-" : ids.stream().map(String::valueOf).collect(Collectors.joining(","));
  }
}
