package io.spoke.vertx.client.impl;

import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.NodeInfo;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.internal.CommandLine;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/** {@code ./spoke status [--hub HOST:PORT] [--json]}: what the hub knows. */
public final class ClientMain {

  private ClientMain() {
  }

  public static void main(String[] args) throws Exception {
    List<String> list = new ArrayList<>(Arrays.asList(args));
    if (list.isEmpty() || !list.get(0).equals("status")) {
      System.err.println("usage: spoke status [--hub HOST:PORT] [--json]");
      System.exit(2);
    }
    list.remove(0);
    boolean json = list.remove("--json");
    SpokeClientOptions options = new SpokeClientOptions().setConnectTimeout(5_000).setRequestTimeout(10_000);
    try {
      String hub = CommandLine.take(list, "hub");
      if (hub != null) {
        options = new SpokeClientOptions(options.toJson().mergeIn(CommandLine.hostPort("hub", hub, "hubHost", "hubPort")));
      }
      if (!list.isEmpty()) {
        throw new IllegalArgumentException("unexpected argument " + list.get(0));
      }
    } catch (IllegalArgumentException e) {
      System.err.println("spoke status: " + e.getMessage());
      System.exit(2);
    }
    SpokeClient client = SpokeClient.create(options);
    int status = 0;
    try {
      ClusterStatus cluster = client.status().await(15, TimeUnit.SECONDS);
      if (json) {
        System.out.println(cluster.toJson().encodePrettily());
      } else {
        print(cluster, System.out);
      }
    } catch (Exception e) {
      System.err.println("spoke status: " + e.getMessage());
      status = 1;
    } finally {
      client.close().await(10, TimeUnit.SECONDS);
    }
    System.exit(status);
  }

  /** The cluster as two tables: nodes with their free and used GPUs, and actors. */
  public static void print(ClusterStatus cluster, PrintStream out) {
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
    out.println("Actors: " + cluster.actors().size());
    if (!cluster.actors().isEmpty()) {
      out.printf("  %-20s %-16s %-24s %-8s %-8s %-22s %s%n", "ID", "TYPE", "NODE", "STATE", "PID", "ENDPOINT", "GPUS");
      for (ActorInfo actor : cluster.actors()) {
        out.printf("  %-20s %-16s %-24s %-8s %-8d %-22s %s%n", actor.id(), actor.type(), actor.nodeId(),
          actor.state().name().toLowerCase(), actor.pid(), actor.host() + ":" + actor.port(), ids(actor.gpuIds()));
      }
    }
  }

  private static String ids(List<Integer> ids) {
    return ids.isEmpty() ? "-" : ids.stream().map(String::valueOf).collect(Collectors.joining(","));
  }
}
