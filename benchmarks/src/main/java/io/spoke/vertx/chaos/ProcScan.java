// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.chaos;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * What the processes of this machine say of themselves, read from {@code /proc}: for each live process (zombies are
 * not) its process tree as Spoke marks it (the agent's tag and the tree, from its cgroup v2 path or its {@code
 * SPOKE_TREE} variable) and the GPUs it sees ({@code CUDA_VISIBLE_DEVICES}). The soak's invariants are checked
 * against this, never against the hub's view.
 */
final class ProcScan {

  /** One live process of a Spoke process tree. */
  record Member(long pid, long parent, String agentTag, String tree, List<Integer> gpus, char state) {

    /** The actor or process the tree is of: its name without the instance number ({@code worker-1.7} is {@code worker-1}). */
    String instance() {
      int dot = tree.lastIndexOf('.');
      return dot > 0 ? tree.substring(0, dot) : tree;
    }
  }

  private ProcScan() {
  }

  /** Every live process that belongs to a Spoke process tree. */
  static List<Member> members() {
    List<Member> members = new ArrayList<>();
    try (DirectoryStream<Path> proc = Files.newDirectoryStream(Paths.get("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
      for (Path dir : proc) {
        Member m = member(dir);
        if (m != null) {
          members.add(m);
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot list /proc: " + e, e);
    }
    return members;
  }

  private static Member member(Path dir) {
    long pid = Long.parseLong(dir.getFileName().toString());
    char state = state(dir);
    if (state == 0 || state == 'Z' || state == 'X') {
      return null;
    }
    String tag = null;
    String tree = null;
    try {
      for (String line : Files.readAllLines(dir.resolve("cgroup"))) {
        int at = line.indexOf("/spoke-agent-");
        if (line.startsWith("0::") && at >= 0) {
          String[] parts = line.substring(at + "/spoke-".length()).split("/");
          if (parts.length >= 2) {
            tag = parts[0];
            tree = parts[1];
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    String visible = null;
    try {
      for (String entry : new String(Files.readAllBytes(dir.resolve("environ")), StandardCharsets.UTF_8).split("\0")) {
        if (tree == null && entry.startsWith("SPOKE_TREE=")) {
          String value = entry.substring("SPOKE_TREE=".length());
          int slash = value.indexOf('/');
          if (slash > 0) {
            tag = value.substring(0, slash);
            tree = value.substring(slash + 1);
          }
        } else if (entry.startsWith("CUDA_VISIBLE_DEVICES=")) {
          visible = entry.substring("CUDA_VISIBLE_DEVICES=".length());
        }
      }
    } catch (IOException | RuntimeException e) {
      return null;
    }
    if (tree == null) {
      return null;
    }
    List<Integer> gpus = new ArrayList<>();
    if (visible != null && !visible.isBlank()) {
      for (String id : visible.split(",")) {
        try {
          gpus.add(Integer.parseInt(id.trim()));
        } catch (NumberFormatException e) {
          // not an index: nothing the soak hands out
        }
      }
    }
    return new Member(pid, parent(dir), tag, tree, gpus, state);
  }

  /** The state letter of a process ({@code R}, {@code S}, {@code T}, {@code Z}...), or 0 when it is gone. */
  static char state(Path dir) {
    try {
      String stat = Files.readString(dir.resolve("stat"));
      return stat.charAt(stat.lastIndexOf(')') + 2);
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** The parent pid of a process, or -1 when it is gone. */
  static long parent(Path dir) {
    try {
      String stat = Files.readString(dir.resolve("stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Long.parseLong(fields[1]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Whether {@code pid} is a live process (not a zombie). */
  static boolean alive(long pid) {
    char state = state(Paths.get("/proc", String.valueOf(pid)));
    return state != 0 && state != 'Z' && state != 'X';
  }

  /**
   * GPUs held by more than one live tree of one node, read from the processes: for each node, GPU id to the trees that
   * see it. {@code nodeOf} maps an agent's tree tag to its node (agents of one node, one after another, share it).
   */
  static Map<String, Map<Integer, TreeSet<String>>> sharedGpus(List<Member> members, Function<String, String> nodeOf) {
    Map<String, Map<Integer, TreeSet<String>>> byNode = new TreeMap<>();
    for (Member m : members) {
      String node = nodeOf.apply(m.agentTag());
      if (node == null) {
        continue;
      }
      for (int gpu : m.gpus()) {
        byNode.computeIfAbsent(node, n -> new TreeMap<>()).computeIfAbsent(gpu, g -> new TreeSet<>()).add(m.agentTag() + "/" + m.tree());
      }
    }
    byNode.values().forEach(gpus -> gpus.values().removeIf(trees -> trees.size() < 2));
    byNode.values().removeIf(Map::isEmpty);
    return byNode;
  }

  /** Resident memory of {@code pid} in KiB, and its open file descriptors; -1 each when it is gone. */
  static long[] footprint(long pid) {
    long rss = -1;
    long fds = -1;
    try {
      for (String line : Files.readAllLines(Paths.get("/proc", String.valueOf(pid), "status"))) {
        if (line.startsWith("VmRSS:")) {
          rss = Long.parseLong(line.replaceAll("\\D", ""));
        }
      }
      try (DirectoryStream<Path> fd = Files.newDirectoryStream(Paths.get("/proc", String.valueOf(pid), "fd"))) {
        long n = 0;
        for (Path ignored : fd) {
          n++;
        }
        fds = n;
      }
    } catch (IOException | RuntimeException e) {
      // gone
    }
    return new long[] {rss, fds};
  }

  /** The cgroup directories of the agents tagged {@code tags} still present under the cgroup v2 mount. */
  static List<Path> leftoverCgroups(java.util.Collection<String> tags) {
    List<Path> left = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(Paths.get("/proc/self/mounts"))) {
        String[] f = line.split(" ");
        if (f.length > 2 && f[2].equals("cgroup2")) {
          try (java.util.stream.Stream<Path> walk = Files.walk(Paths.get(f[1]), 3)) {
            walk.filter(Files::isDirectory).filter(p -> tags.stream().anyMatch(t -> p.getFileName().toString().equals("spoke-" + t)))
              .forEach(left::add);
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // no cgroup v2 here
    }
    return left;
  }
}
