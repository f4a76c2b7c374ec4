// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Keeps every process an agent starts, and everything those start, within reach, so that stopping one ends its
 * whole tree: children that double-forked or called {@code setsid} to leave the process group included.
 * <p>
 * Two ways, the first that works here:
 * <ul>
 *   <li><b>cgroup</b>: where a cgroup v2 hierarchy is writable and has {@code cgroup.kill} (Linux 5.14), each tree
 *     gets a cgroup of its own, under the agent's, which its first process joins before it execs the command. The
 *     kernel keeps every descendant in it, whatever it does with sessions and groups, and {@code cgroup.kill}
 *     SIGKILLs them all at once.</li>
 *   <li><b>environment</b>: otherwise every process of a tree carries {@code SPOKE_TREE=<agent tag>/<tree>} in its
 *     environment, which children inherit; a kill SIGKILLs every process whose {@code /proc/PID/environ} has it, until
 *     none is left (Jenkins' process tree killer works the same way). A process that clears its whole environment
 *     escapes this way, not the cgroup.</li>
 * </ul>
 * Both carry the tag, so {@link #janitor()} (a shell that outlives the agent by the time it takes to run, woken by
 * the agent's death signal) can end every tree when the agent is SIGKILLed. Methods that touch the file system
 * block: call them from a worker or the launcher's thread.
 */
public final class ProcessTrees {

  private static final Logger log = LogManager.getLogger(ProcessTrees.class);

  /** The environment variable that marks a tree's processes. */
  public static final String TAG_VARIABLE = "SPOKE_TREE";

  /**
   * What {@link #janitor()} runs: on SIGTERM (the agent died) or SIGINT, it kills every tree of the agent. A signal
   * that comes while the agent lives is not its death, but one sent to every process of a job or a terminal (Slurm's
   * SIGTERM at scancel, Ctrl-C's SIGINT): the agent stops its trees itself, each with its stop signal and grace, and
   * its death wakes the janitor again. The parent is read from {@code /proc}: the kernel gives an orphan its new parent
   * before it sends the death signal. SIGUSR1 is the agent's word as it stops: sweep and go.
   */
  private static final String JANITOR_SCRIPT = String.join("\n",
    "root=$1; tag=$2; agent=$PPID; sleeper=; asked=",
    "sweep() {",
    "  parent=$(sed 's/^.*) [A-Za-z] \\([0-9]*\\) .*$/\\1/' /proc/$$/stat 2>/dev/null)",
    "  if [ -z \"$asked\" ] && [ \"$parent\" = \"$agent\" ]; then echo 'ignored: the agent lives'; return 0; fi",
    "  if [ -n \"$root\" ] && [ -d \"$root\" ]; then",
    "    for cg in \"$root\"/*/; do [ -f \"${cg}cgroup.kill\" ] && echo 1 > \"${cg}cgroup.kill\"; done",
    "  fi",
    "  for i in 1 2 3 4 5 6 7 8 9 10; do",
    "    pids=$(grep -lsz \"^SPOKE_TREE=$tag/\" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3)",
    "    [ -z \"$pids\" ] && break",
    "    kill -9 $pids 2>/dev/null",
    "    sleep 0.1",
    "  done",
    "  if [ -n \"$root\" ] && [ -d \"$root\" ]; then rmdir \"$root\"/*/ \"$root\" 2>/dev/null; fi",
    "  kill $sleeper 2>/dev/null",
    "  exit 0",
    "}",
    "trap sweep TERM INT HUP",
    // The agent's own word as it stops (its trees are gone by then): sweep what is left and go.
    "trap 'asked=1; sweep' USR1",
    // Says it is armed: a SIGTERM before the trap above would end it without a sweep.
    "echo ready",
    // A signal the trap ignored ends the wait, not the sleep: a new one only once the old one is gone.
    "while :; do kill -0 \"$sleeper\" 2>/dev/null || { sleep 3600 & sleeper=$!; }; wait $sleeper; done",
    "");

  /** The script a cgroup tree's first process runs: join the cgroup ($0), then exec the command ("$@"). */
  private static final String JOIN_SCRIPT = "echo $$ > \"$0/cgroup.procs\" || exit 126; exec \"$@\"";

  private final String tag;
  private final AtomicLong trees = new AtomicLong();
  /** The agent's cgroup for its trees, or {@code null} when trees are found by their environment. */
  private final Path root;

  private ProcessTrees(String tag, Path root) {
    this.tag = tag;
    this.root = root;
  }

  /**
   * Trees tagged {@code tag} (unique to this agent: its node id and a random part), in a cgroup under this process's
   * own where one can be made ({@code mode} {@code "auto"}, or {@code "cgroup"}), else by environment ({@code
   * "environ"}, or {@code "auto"} where no cgroup can be made). Blocks.
   */
  public static ProcessTrees create(String tag, String mode) {
    if (!tag.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException("a process tree tag is letters, digits, '.', '_' and '-', got '" + tag + "'");
    }
    if (!"environ".equals(mode)) {
      Optional<Path> cgroup = ownCgroup2().map(dir -> dir.resolve("spoke-" + tag));
      if (cgroup.isPresent()) {
        try {
          Files.createDirectories(cgroup.get());
          if (Files.exists(cgroup.get().resolve("cgroup.kill"))) {
            return new ProcessTrees(tag, cgroup.get());
          }
          Files.deleteIfExists(cgroup.get());
        } catch (IOException | SecurityException e) {
          log.debug("Cannot make cgroup {}: {}", cgroup.get(), e.toString());
        }
      }
      if ("cgroup".equals(mode)) {
        throw new IllegalStateException("no writable cgroup v2 hierarchy with cgroup.kill here (Linux 5.14 or later, mounted read-write)");
      }
    }
    return new ProcessTrees(tag, null);
  }

  /** Where this process's cgroup v2 directory is, when the hierarchy is mounted; empty otherwise. */
  static Optional<Path> ownCgroup2() {
    try {
      String own = null;
      for (String line : Files.readAllLines(Paths.get("/proc/self/cgroup"))) {
        if (line.startsWith("0::")) {
          own = line.substring(3);
        }
      }
      if (own == null) {
        return Optional.empty();
      }
      for (String line : Files.readAllLines(Paths.get("/proc/self/mounts"))) {
        String[] f = line.split(" ");
        if (f.length > 2 && f[2].equals("cgroup2")) {
          Path dir = Paths.get(f[1], own.startsWith("/") ? own.substring(1) : own);
          return Files.isDirectory(dir) ? Optional.of(dir) : Optional.empty();
        }
      }
    } catch (IOException | RuntimeException e) {
      log.debug("No cgroup v2 here: {}", e.toString());
    }
    return Optional.empty();
  }

  /** {@code "cgroup"} or {@code "environment"}: how trees are kept, for the logs and the README's claim. */
  public String mode() {
    return root != null ? "cgroup" : "environment";
  }

  public String tag() {
    return tag;
  }

  /**
   * The command that watches over the agent's trees: started by the launcher with the parent-death signal set to
   * SIGTERM, it prints {@code ready} once its trap is set, then waits; when the agent dies it kills every tree and
   * exits.
   */
  public List<String> janitor() {
    return List.of("sh", "-c", JANITOR_SCRIPT, "spoke-janitor", root == null ? "" : root.toString(), tag);
  }

  /**
   * A new tree named after {@code name} (an actor id, or a warm host's), and numbered: each instance has a tree of its
   * own, so that a next instance's never meets its predecessor's being removed. Blocks (it makes the cgroup).
   */
  public Tree tree(String name) throws IOException {
    String dir = name.replaceAll("[^A-Za-z0-9._-]", "_") + "." + trees.incrementAndGet();
    Path cgroup = null;
    if (root != null) {
      cgroup = root.resolve(dir);
      Files.createDirectories(cgroup);
    }
    return new Tree(tag + "/" + dir, cgroup);
  }

  /** One process tree: the command's wrapping and environment, and its kill. */
  public static final class Tree {

    private final String id;
    private final Path cgroup;

    Tree(String id, Path cgroup) {
      this.id = id;
      this.cgroup = cgroup;
    }

    /** The variable to add to the first process's environment. */
    public Map.Entry<String, String> tagVariable() {
      return Map.entry(TAG_VARIABLE, id);
    }

    /** {@code command}, prefixed so that its process joins the tree's cgroup before it execs (same pid). */
    public List<String> wrap(List<String> command) {
      if (cgroup == null) {
        return command;
      }
      List<String> wrapped = new ArrayList<>(List.of("sh", "-c", JOIN_SCRIPT, cgroup.toString()));
      wrapped.addAll(command);
      return wrapped;
    }

    /** How many processes the tree has now. Blocks. */
    public int size() {
      return cgroup != null ? cgroupPids().size() : taggedPids().size();
    }

    /**
     * SIGKILLs every process of the tree and waits (up to about two seconds) until none is left; then removes its
     * cgroup. Returns how many were left after the wait (0 unless something keeps forking or cannot be killed).
     * Blocks.
     */
    public int kill() {
      long deadline = System.nanoTime() + 2_000_000_000L;
      int left;
      while (true) {
        if (cgroup != null) {
          try {
            Files.writeString(cgroup.resolve("cgroup.kill"), "1");
          } catch (IOException e) {
            log.debug("cgroup.kill of {} failed: {}", cgroup, e.toString());
          }
        }
        List<Long> pids = cgroup != null ? cgroupPids() : taggedPids();
        for (long pid : pids) {
          ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        }
        left = pids.size();
        if (left == 0 || System.nanoTime() - deadline > 0) {
          break;
        }
        try {
          Thread.sleep(10);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      if (cgroup != null && left == 0) {
        try {
          Files.deleteIfExists(cgroup);
        } catch (IOException e) {
          log.debug("Cannot remove cgroup {}: {}", cgroup, e.toString());
        }
      }
      return left;
    }

    private List<Long> cgroupPids() {
      List<Long> pids = new ArrayList<>();
      try {
        for (String line : Files.readAllLines(cgroup.resolve("cgroup.procs"))) {
          if (!line.isBlank()) {
            pids.add(Long.parseLong(line.trim()));
          }
        }
      } catch (IOException | NumberFormatException e) {
        // gone already
      }
      return pids;
    }

    private List<Long> taggedPids() {
      return pidsTagged((TAG_VARIABLE + "=" + id).getBytes(StandardCharsets.UTF_8));
    }
  }

  /** Processes whose environment has the entry {@code entry} ({@code KEY=VALUE}). Blocks. */
  static List<Long> pidsTagged(byte[] entry) {
    List<Long> pids = new ArrayList<>();
    long self = ProcessHandle.current().pid();
    try (DirectoryStream<Path> proc = Files.newDirectoryStream(Paths.get("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
      for (Path dir : proc) {
        long pid = Long.parseLong(dir.getFileName().toString());
        if (pid == self) {
          continue;
        }
        byte[] environ;
        try {
          environ = Files.readAllBytes(dir.resolve("environ"));
        } catch (IOException | SecurityException e) {
          continue;
        }
        if (hasEntry(environ, entry)) {
          pids.add(pid);
        }
      }
    } catch (IOException e) {
      log.warn("Cannot list /proc: {}", e.toString());
    }
    return pids;
  }

  /** Whether NUL-separated {@code environ} has exactly the entry {@code entry}. */
  static boolean hasEntry(byte[] environ, byte[] entry) {
    int start = 0;
    while (start < environ.length) {
      int end = start;
      while (end < environ.length && environ[end] != 0) {
        end++;
      }
      if (end - start == entry.length && java.util.Arrays.equals(environ, start, end, entry, 0, entry.length)) {
        return true;
      }
      start = end + 1;
    }
    return false;
  }
}
