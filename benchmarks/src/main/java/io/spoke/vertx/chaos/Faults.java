// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.chaos;

import io.spoke.vertx.test.TcpRelay;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The faults, one after another at seeded random intervals, on a thread of their own: SIGKILL and SIGSTOP/SIGCONT of
 * actor hosts, process ranks, agents and the hub (a killed role is started again after a while), cuts of an agent's or
 * the client's link to the hub (held cut for a while); with several hubs, the leader is the hub hit two times in three,
 * a cut takes all of one hub's links, and an etcd member is killed now and then (started again after 1 to 4 s); a
 * rank's working directory removed under it (so that its restart cannot start), a log file removed. The seed fixes
 * the schedule (kinds, targets' picks, intervals, hold times), not the timing of the cluster under it.
 */
final class Faults implements Runnable {

  /** The kinds of fault, as {@code --faults} names them. */
  enum Kind { KILL, STOP, CUT, RMDIR, RMLOG }

  private final ChaosCluster cluster;
  private final Set<Kind> kinds;
  private final Random random;
  private final long untilNanos;
  private final Path work;
  private final Violations violations;
  /** Faults injected, by kind and target ("kill agent"). */
  final Map<String, Long> injected = new TreeMap<>();

  Faults(ChaosCluster cluster, Set<Kind> kinds, long seed, long untilNanos, Path work, Violations violations) {
    this.cluster = cluster;
    this.kinds = kinds;
    this.random = new Random(seed);
    this.untilNanos = untilNanos;
    this.work = work;
    this.violations = violations;
  }

  @Override
  public void run() {
    List<Kind> enabled = new ArrayList<>(kinds);
    try {
      while (System.nanoTime() < untilNanos) {
        sleep(200 + (long) (-Math.log(1 - random.nextDouble()) * 1_300));
        if (System.nanoTime() >= untilNanos) {
          break;
        }
        Kind kind = enabled.get(random.nextInt(enabled.size()));
        String done = inject(kind);
        if (done != null) {
          synchronized (injected) {
            injected.merge(done, 1L, Long::sum);
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException | RuntimeException e) {
      violations.add("the fault injector failed: " + e);
    }
  }

  /** Injects one fault of {@code kind}; what it did ("kill hub"), or null when it found no target. */
  private String inject(Kind kind) throws InterruptedException, IOException {
    switch (kind) {
      case KILL: {
        // Several hubs: one kill in three is a hub's (or an etcd member's).
        int pick = cluster.hubs.size() > 1 && random.nextInt(3) == 0 ? 10 : random.nextInt(11);
        if (pick < 4) {
          return kill(instances("chaos-actor-"), "actor");
        } else if (pick < 8) {
          return kill(instances("t-"), "rank");
        } else if (pick < 10) {
          ChaosCluster.Role agent = cluster.agents.get(random.nextInt(cluster.agents.size()));
          ChaosCluster.signal(agent.pid(), "KILL");
          agent.process.waitFor();
          sleep(500 + random.nextInt(2_500));
          cluster.start(agent);
          return "kill agent";
        } else if (cluster.etcd != null && random.nextInt(3) == 0) {
          // One etcd member of three: quorum holds, nothing may be seen.
          int member = random.nextInt(cluster.etcd.size());
          cluster.etcd.kill(member);
          sleep(1_000 + random.nextInt(3_000));
          try {
            cluster.etcd.restart(member);
          } catch (Exception e) {
            violations.add("etcd member " + member + " did not come back: " + e.getMessage());
          }
          return "kill etcd member";
        } else {
          ChaosCluster.Role hub = pickHub();
          ChaosCluster.signal(hub.pid(), "KILL");
          hub.process.waitFor();
          sleep(500 + random.nextInt(1_500));
          cluster.start(hub);
          return "kill hub";
        }
      }
      case STOP: {
        int pick = cluster.hubs.size() > 1 && random.nextInt(3) == 0 ? 7 : random.nextInt(8);
        long pid;
        String what;
        long holdMs;
        if (pick < 3) {
          pid = pick(instances("chaos-actor-"));
          what = "actor";
          holdMs = 300 + random.nextInt(4_000);
        } else if (pick < 5) {
          pid = pick(instances("t-"));
          what = "rank";
          holdMs = 300 + random.nextInt(4_000);
        } else if (pick < 7) {
          pid = cluster.agents.get(random.nextInt(cluster.agents.size())).pid();
          what = "agent";
          holdMs = 300 + random.nextInt(6_000);
        } else {
          pid = pickHub().pid();
          what = "hub";
          holdMs = 300 + random.nextInt(6_000);
        }
        if (pid <= 0 || !ChaosCluster.signal(pid, "STOP")) {
          return null;
        }
        sleep(holdMs);
        ChaosCluster.signal(pid, "CONT");
        return "stop " + what;
      }
      case CUT: {
        if (!cluster.hubRelays.isEmpty()) {
          // Several hubs: one hub's every link to agents and client (it still reaches etcd).
          TcpRelay relay = cluster.hubRelays.get(cluster.hubs.indexOf(pickHub()));
          relay.refuse(true);
          relay.cut();
          sleep(random.nextInt(3_000));
          relay.refuse(false);
          return "cut hub";
        }
        boolean client = random.nextInt(4) == 0;
        TcpRelay relay = client ? cluster.clientRelay : cluster.agentRelays.get(random.nextInt(cluster.agentRelays.size()));
        relay.refuse(true);
        relay.cut();
        sleep(random.nextInt(3_000));
        relay.refuse(false);
        return client ? "cut client" : "cut agent";
      }
      case RMDIR: {
        List<ProcScan.Member> ranks = instances("t-");
        if (ranks.isEmpty()) {
          return null;
        }
        ProcScan.Member rank = ranks.get(random.nextInt(ranks.size()));
        // t-5-rank-1 runs in <work>/t-5-1
        String name = rank.instance();
        int at = name.lastIndexOf("-rank-");
        if (at < 0) {
          return null;
        }
        Path workdir = work.resolve(name.substring(0, at) + "-" + name.substring(at + "-rank-".length()));
        removeAll(workdir);
        ChaosCluster.signal(rank.pid(), "KILL");
        return "rmdir rank";
      }
      case RMLOG: {
        List<ProcScan.Member> all = instances("");
        if (all.isEmpty()) {
          return null;
        }
        String name = all.get(random.nextInt(all.size())).instance();
        try (Stream<Path> files = Files.walk(cluster.dir, 4)) {
          for (Path log : (Iterable<Path>) files.filter(f -> f.getFileName().toString().startsWith(name + "_")
            && f.toString().endsWith(".log"))::iterator) {
            Files.deleteIfExists(log);
          }
        }
        return "rmlog";
      }
      default:
        throw new IllegalStateException(kind.name());
    }
  }

  /**
   * The hub a fault hits: the only one; of several, the leader two times in three (where etcd names one), else any.
   */
  private ChaosCluster.Role pickHub() {
    if (cluster.hubs.size() == 1) {
      return cluster.hubs.get(0);
    }
    boolean leader = random.nextInt(3) < 2;
    ChaosCluster.Role any = cluster.hubs.get(random.nextInt(cluster.hubs.size()));
    ChaosCluster.Role leading = leader ? cluster.leader() : null;
    return leading != null ? leading : any;
  }

  /** The live tree roots (children of a live agent of this soak) whose instance name starts with {@code prefix}. */
  private List<ProcScan.Member> instances(String prefix) {
    List<Long> agents = cluster.agents.stream().map(ChaosCluster.Role::pid).toList();
    List<ProcScan.Member> roots = new ArrayList<>();
    for (ProcScan.Member m : ProcScan.members()) {
      if (agents.contains(m.parent()) && m.instance().startsWith(prefix) && !m.instance().startsWith("warm-")) {
        roots.add(m);
      }
    }
    roots.sort(Comparator.comparing(ProcScan.Member::tree));
    return roots;
  }

  private long pick(List<ProcScan.Member> members) {
    return members.isEmpty() ? -1 : members.get(random.nextInt(members.size())).pid();
  }

  private String kill(List<ProcScan.Member> members, String what) {
    long pid = pick(members);
    return pid > 0 && ChaosCluster.signal(pid, "KILL") ? "kill " + what : null;
  }

  private static void removeAll(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static void sleep(long ms) throws InterruptedException {
    Thread.sleep(Math.max(0, ms));
  }
}
