// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.chaos;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.NodeInfo;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.test.EtcdCluster;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * {@code ./spoke chaos [--minutes N | --seconds N] [--seed S] [--faults kill,stop,cut,rmdir,rmlog] [--hubs N] [--dir DIR]}: a
 * hub with a state directory (or, with {@code --hubs 3}, three hubs on a three-member etcd, which fail over as faults
 * kill, pause and cut them off) and three agents as real processes, a client calling actors with restart policies and
 * churning gangs of process ranks, and seeded random faults on all of it; then a quiet end in which the hub and the
 * processes must agree. It checks, all the time and at the end, from the processes themselves: no GPU id of a node
 * seen by two live process trees; every call answered with its own bytes or failed with a typed exception within its
 * timeout; every acknowledged ticket still the hub's (live, or failed with a reason) until released; the hub's live
 * actors per node exactly the trees its agent runs; nothing left once it stops (no process, no cgroup); the hub's
 * memory and file descriptors bounded. Prints the faults by kind, the checks, and every violation with the seed to
 * replay; exits 1 on any violation.
 */
public final class Chaos {

  private static final long WARMUP_MS = 5_000;
  private static final long SETTLE_MS = ChaosCluster.NODE_TIMEOUT_MS + 10_000;

  private Chaos() {
  }

  public static void main(String[] args) throws Exception {
    long durationMs = 5 * 60_000;
    long seed = new SecureRandom().nextLong();
    Set<Faults.Kind> kinds = EnumSet.allOf(Faults.Kind.class);
    Path dir = null;
    int hubs = 1;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      String value = i + 1 < args.length ? args[i + 1] : null;
      switch (arg) {
        case "--minutes" -> durationMs = (long) (Double.parseDouble(need(arg, value)) * 60_000);
        case "--seconds" -> durationMs = (long) (Double.parseDouble(need(arg, value)) * 1_000);
        case "--seed" -> seed = Long.parseLong(need(arg, value));
        case "--faults" -> {
          kinds = EnumSet.noneOf(Faults.Kind.class);
          for (String k : need(arg, value).split(",")) {
            try {
              kinds.add(Faults.Kind.valueOf(k.trim().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
              usage("unknown fault '" + k + "': the faults are kill, stop, cut, rmdir, rmlog");
            }
          }
        }
        case "--dir" -> dir = Paths.get(need(arg, value));
        case "--hubs" -> {
          try {
            hubs = Integer.parseInt(need(arg, value));
          } catch (NumberFormatException e) {
            usage("--hubs takes a number, not '" + value + "'");
          }
          if (hubs < 1 || hubs > 5) {
            usage("--hubs takes 1 to 5");
          }
        }
        case "--help", "-h" -> {
          System.out.println(usageText());
          return;
        }
        default -> usage("unknown argument '" + arg + "'");
      }
      if (!arg.equals("--help")) {
        i++;
      }
    }
    if (durationMs <= 0 || kinds.isEmpty()) {
      usage("the soak needs a positive duration and at least one kind of fault");
    }
    Path work = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("spoke-chaos");
    if (hubs > 1 && !EtcdCluster.available()) {
      usage("--hubs " + hubs + " runs the hubs on etcd, which this machine lacks (apt-get install etcd-server etcd-client)");
    }
    System.exit(new Chaos.Run(work, durationMs, seed, kinds, hubs).run());
  }

  private static String need(String flag, String value) {
    if (value == null) {
      usage(flag + " needs a value");
    }
    return value;
  }

  private static String usageText() {
    return "usage: spoke chaos [--minutes N | --seconds N] [--seed S] [--faults kill,stop,cut,rmdir,rmlog] [--hubs N] [--dir DIR]\n"
      + "  a hub (or N hubs on a three-member etcd) and 3 agents as processes under seeded faults; exits 1 on any violation of its\n"
      + "  invariants";
  }

  private static void usage(String problem) {
    System.err.println("spoke chaos: " + problem);
    System.err.println(usageText());
    System.exit(2);
  }

  /** One soak. */
  static final class Run {

    private final Path dir;
    private final long durationMs;
    private final long seed;
    private final Set<Faults.Kind> kinds;
    private final int hubCount;
    private final Violations violations = new Violations();
    private final Map<Long, Footprint> hubFootprints = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile boolean checking = true;

    Run(Path dir, long durationMs, long seed, Set<Faults.Kind> kinds, int hubCount) {
      this.hubCount = hubCount;
      this.dir = dir;
      this.durationMs = durationMs;
      this.seed = seed;
      this.kinds = kinds;
    }

    int run() throws Exception {
      System.out.println("chaos: seed " + seed + ", " + durationMs / 1000 + " s of faults " + kinds + (hubCount > 1 ? " on " + hubCount
        + " hubs on etcd" : "") + " in " + dir);
      ChaosCluster cluster = new ChaosCluster(dir, 3, hubCount);
      Vertx vertx = Vertx.vertx();
      Context context = vertx.getOrCreateContext();
      Workload[] workload = new Workload[1];
      SpokeClient[] client = new SpokeClient[1];
      Thread checker = null;
      Faults faults = null;
      try {
        for (ChaosCluster.Role hub : cluster.hubs) {
          cluster.start(hub);
        }
        for (int port : cluster.hubPorts) {
          awaitPort(port);
        }
        for (ChaosCluster.Role agent : cluster.agents) {
          cluster.start(agent);
        }
        Files.createDirectories(dir.resolve("work"));
        on(context, () -> {
          client[0] = SpokeClient.create(vertx, new SpokeClientOptions().setHubAddresses(cluster.hubAddresses()).setCallTimeout(
            Workload.CALL_TIMEOUT_MS).setRequestTimeout(10_000).setSecurity(new SecurityOptions().setToken(cluster.token)));
          workload[0] = new Workload(vertx, client[0], dir.resolve("work"), seed, violations);
          return Future.succeededFuture();
        });
        awaitNodes(context, client[0], cluster.agents.size());
        on(context, () -> {
          workload[0].start();
          return Future.succeededFuture();
        });
        checker = new Thread(() -> check(cluster, context, workload[0]), "chaos-checker");
        checker.setDaemon(true);
        checker.start();
        Thread.sleep(WARMUP_MS);

        long until = System.nanoTime() + durationMs * 1_000_000L;
        faults = new Faults(cluster, kinds, seed, until, dir.resolve("work"), violations);
        Thread injector = new Thread(faults, "chaos-faults");
        injector.start();
        injector.join();
        heal(cluster);

        // The quiet end: no faults, no new gangs; once the node timeout has passed, the hub and the processes agree.
        on(context, () -> {
          workload[0].pauseChurn();
          return Future.succeededFuture();
        });
        Thread.sleep(SETTLE_MS);
        agree(cluster, context, client[0]);
        List<io.spoke.vertx.client.Allocation> tickets = on(context, () -> client[0].status()).tickets();
        on(context, () -> {
          workload[0].checkTickets(tickets);
          return Future.succeededFuture();
        });
        violations.checked("tickets kept");
        ClusterStatus last = on(context, () -> client[0].status());
        long restarts = Workload.restarts(last.actors());
        checking = false;
        on(context, () -> workload[0].stop());
        report(faults, workload[0], restarts, tickets.size());
      } finally {
        checking = false;
        if (checker != null) {
          checker.join(5_000);
        }
        if (client[0] != null) {
          try {
            client[0].close().await(20, TimeUnit.SECONDS);
          } catch (Exception ignored) {
            // the soak ends anyway
          }
        }
        List<String> tags = cluster.tags();
        cluster.close();
        vertx.close().await(20, TimeUnit.SECONDS);
        leftovers(cluster, tags);
      }
      List<String> found = violations.found();
      System.out.println("chaos: checks " + violations.checks());
      if (found.isEmpty()) {
        System.out.println("chaos: 0 violations (seed " + seed + ")");
        return 0;
      }
      System.out.println("chaos: " + found.size() + " violations (replay with --seed " + seed + "):");
      found.forEach(v -> System.out.println("  " + v));
      System.out.println("chaos: logs in " + dir);
      return 1;
    }

    /** Every 250 ms: no GPU seen by two trees of a node, no call hung, and the hub's footprint. */
    private void check(ChaosCluster cluster, Context context, Workload workload) {
      while (checking) {
        List<ProcScan.Member> members = ProcScan.members();
        Map<String, Map<Integer, TreeSet<String>>> shared = ProcScan.sharedGpus(members, cluster::nodeOfTag);
        violations.checked("gpus");
        shared.forEach((node, gpus) -> gpus.forEach((gpu, trees) -> violations.add("GPU " + gpu + " of node " + node
          + " is seen by " + trees.size() + " live process trees: " + trees)));
        context.runOnContext(v -> workload.checkHangs());
        violations.checked("calls");
        for (ChaosCluster.Role hub : cluster.hubs) {
          long pid = hub.pid();
          long[] now = ProcScan.footprint(pid);
          if (now[0] > 0) {
            hubFootprints.computeIfAbsent(pid, p -> new Footprint()).sample(now[0], now[1]);
          }
        }
        try {
          Thread.sleep(250);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    /** After the faults: every stopped process resumed, every link open, every role running. */
    private static void heal(ChaosCluster cluster) throws Exception {
      for (ProcScan.Member m : ProcScan.members()) {
        if (m.state() == 'T' && cluster.nodeOfTag(m.agentTag()) != null) {
          ChaosCluster.signal(m.pid(), "CONT");
        }
      }
      List<ChaosCluster.Role> roles = new ArrayList<>(cluster.agents);
      roles.addAll(cluster.hubs);
      for (ChaosCluster.Role role : roles) {
        ChaosCluster.signal(role.pid(), "CONT");
        if (!role.process.isAlive()) {
          cluster.start(role);
        }
      }
      cluster.openAll();
      if (cluster.etcd != null) {
        cluster.etcdHealed();
      }
    }

    /**
     * The hub's live actors on each node are exactly the process trees of that node's agent (read from the
     * processes), and no process of an earlier agent of a node lives on; retried for 30 s while they settle.
     */
    private void agree(ChaosCluster cluster, Context context, SpokeClient client) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      List<String> disagreements = List.of();
      while (System.nanoTime() < deadline) {
        disagreements = disagreements(cluster, on(context, client::status));
        if (disagreements.isEmpty()) {
          break;
        }
        Thread.sleep(500);
      }
      violations.checked("agreement");
      disagreements.forEach(violations::add);
    }

    private static List<String> disagreements(ChaosCluster cluster, ClusterStatus status) {
      List<String> problems = new ArrayList<>();
      List<ProcScan.Member> members = ProcScan.members();
      for (ChaosCluster.Role agent : cluster.agents) {
        String tagPrefix = "agent-" + agent.pid() + "-";
        NodeInfo node = status.nodes().stream().filter(n -> n.id().equals(agent.name)).findFirst().orElse(null);
        if (node == null || !node.alive()) {
          problems.add("node " + agent.name + " is not alive on the hub after the faults ended");
          continue;
        }
        // By pid: a warm host's tree keeps its host's name once it runs an actor.
        Map<Long, String> hub = new TreeMap<>();
        Set<String> restarting = status.actors().stream().filter(a -> agent.name.equals(a.nodeId()) && a.state() == ActorState.RESTARTING)
          .map(ActorInfo::id).collect(Collectors.toSet());
        for (ActorInfo actor : status.actors()) {
          if (agent.name.equals(actor.nodeId()) && actor.state() != ActorState.RESTARTING && actor.state() != ActorState.EXITED) {
            if (actor.pid() <= 0) {
              problems.add("node " + agent.name + ": " + actor.id() + " is still " + actor.state() + " after the faults ended");
            } else {
              hub.put(actor.pid(), actor.id());
            }
          }
        }
        Map<Long, String> processes = new TreeMap<>();
        for (ProcScan.Member m : members) {
          if (m.agentTag().startsWith(tagPrefix) && m.parent() == agent.pid() && !restarting.contains(m.instance())
            && !(m.instance().startsWith("warm-") && !hub.containsKey(m.pid()))) {
            processes.put(m.pid(), m.instance());
          }
        }
        if (!hub.keySet().equals(processes.keySet())) {
          problems.add("node " + agent.name + ": the hub has " + hub + ", its agent runs " + processes + " (by pid)");
        }
      }
      for (ProcScan.Member m : members) {
        String node = cluster.nodeOfTag(m.agentTag());
        if (node != null && cluster.agents.stream().noneMatch(a -> m.agentTag().startsWith("agent-" + a.pid() + "-"))) {
          problems.add("process " + m.pid() + " (" + m.tree() + ") of an earlier agent of node " + node + " lives on");
        }
      }
      return problems;
    }

    /** After the soak: no process of any agent's tree, no role, no cgroup left. */
    private void leftovers(ChaosCluster cluster, List<String> tags) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      List<String> left = List.of();
      while (System.nanoTime() < deadline) {
        left = new ArrayList<>();
        for (ProcScan.Member m : ProcScan.members()) {
          if (cluster.nodeOfTag(m.agentTag()) != null) {
            left.add("process " + m.pid() + " of tree " + m.agentTag() + "/" + m.tree());
          }
        }
        for (long pid : cluster.rolePids) {
          if (ProcScan.alive(pid)) {
            left.add("role process " + pid);
          }
        }
        for (ProcessHandle child : (Iterable<ProcessHandle>) ProcessHandle.current().descendants()::iterator) {
          if (ProcScan.alive(child.pid())) {
            left.add("child process " + child.pid() + " " + child.info().command().orElse("?"));
          }
        }
        for (Path cgroup : ProcScan.leftoverCgroups(tags)) {
          left.add("cgroup " + cgroup);
        }
        if (left.isEmpty()) {
          break;
        }
        Thread.sleep(250);
      }
      violations.checked("nothing left");
      left.forEach(l -> violations.add("left after the soak: " + l));
    }

    private void report(Faults faults, Workload workload, long restarts, int ticketsAtEnd) {
      long fdGrowth = 0;
      long rssGrowthKb = 0;
      for (Footprint f : hubFootprints.values()) {
        fdGrowth = Math.max(fdGrowth, f.fdGrowth());
        rssGrowthKb = Math.max(rssGrowthKb, f.rssGrowthKb());
      }
      if (fdGrowth > 200) {
        violations.add("the hub's open file descriptors grew by " + fdGrowth);
      }
      JsonObject summary = new JsonObject().put("seed", seed).put("faultSeconds", durationMs / 1000)
        .put("faults", new JsonObject(new TreeMap<>(faults.injected))).put("calls", new JsonObject()
          .put("ok", workload.callsOk.get()).put("failedTyped", new JsonObject(new TreeMap<>(workload.callFailures))))
        .put("tickets", new JsonObject().put("acknowledged", workload.ticketsAcknowledged.get())
          .put("refused", workload.ticketsRefused.get()).put("liveAtEnd", ticketsAtEnd).put("launchesFailed", workload.launchesFailed.get()))
        .put("restartsOfActorsAtEnd", restarts).put("hubStarts", hubFootprints.size())
        .put("hubRssGrowthMiB", rssGrowthKb / 1024).put("hubFdGrowth", fdGrowth);
      System.out.println("chaos: faults injected " + faults.injected);
      System.out.println("chaos: calls " + workload.callsOk.get() + " ok, failed (typed) " + workload.callFailures);
      System.out.println("chaos: tickets " + workload.ticketsAcknowledged.get() + " acknowledged, " + workload.ticketsRefused.get()
        + " refused; restarts of the actors live at the end " + restarts + "; hub started " + hubFootprints.size() + " times, RSS growth "
        + rssGrowthKb / 1024 + " MiB, fd growth " + fdGrowth);
      System.out.println("chaos: summary " + summary.encode());
    }

    private static void awaitPort(int port) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < deadline) {
        try (Socket socket = new Socket("127.0.0.1", port)) {
          if (socket.isConnected()) {
            return;
          }
        } catch (java.io.IOException e) {
          Thread.sleep(100);
        }
      }
      throw new IllegalStateException("the hub did not listen on port " + port + " within 60 s");
    }

    private static void awaitNodes(Context context, SpokeClient client, int count) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (System.nanoTime() < deadline) {
        try {
          if (on(context, client::status).nodes().stream().filter(NodeInfo::alive).count() == count) {
            return;
          }
        } catch (Exception e) {
          // the hub is still starting
        }
        Thread.sleep(200);
      }
      throw new IllegalStateException(count + " agents did not register within 90 s");
    }

    private static <T> T on(Context context, Supplier<Future<T>> action) throws Exception {
      Promise<T> promise = Promise.promise();
      context.runOnContext(v -> action.get().onComplete(promise));
      return promise.future().await(60, TimeUnit.SECONDS);
    }
  }
}
