// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.process;

import static io.spoke.vertx.test.Await.until;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.spoke.vertx.test.ProcessCleanup;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real process trees that try to get away (a double fork, {@code setsid}) are ended whole: by a kill, and by the
 * janitor when the process that started it (the agent, in production) is SIGKILLed or stops, but not at a signal
 * that comes while the agent lives. Both ways of keeping trees: a cgroup
 * where this machine has a writable one, and the environment tag.
 */
class ProcessTreesIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  /** A process that leaves behind a setsid'd child and a double-forked grandchild, then waits. */
  private static final List<String> ESCAPER = List.of("sh", "-c", "setsid sleep 600 & (sleep 600 &) ; sleep 600");

  private static ProcessTrees trees(String mode) {
    if (mode.equals("cgroup")) {
      assumeThat(ProcessTrees.ownCgroup2()).as("a cgroup v2 hierarchy").isPresent();
    }
    ProcessTrees trees = ProcessTrees.create("it-" + UUID.randomUUID().toString().substring(0, 8), mode);
    assertThat(trees.mode()).isEqualTo(mode.equals("cgroup") ? "cgroup" : "environment");
    return trees;
  }

  private static Process start(ProcessTrees.Tree tree, List<String> command) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(tree.wrap(command)).redirectErrorStream(true)
      .redirectOutput(ProcessBuilder.Redirect.DISCARD);
    builder.environment().put(tree.tagVariable().getKey(), tree.tagVariable().getValue());
    return processes.track(builder.start());
  }

  private static List<ProcessHandle> tagged(ProcessTrees.Tree tree) {
    byte[] entry = (tree.tagVariable().getKey() + "=" + tree.tagVariable().getValue()).getBytes(StandardCharsets.UTF_8);
    List<ProcessHandle> found = new ArrayList<>();
    for (long pid : ProcessTrees.pidsTagged(entry)) {
      ProcessHandle.of(pid).ifPresent(found::add);
    }
    return found;
  }

  @ParameterizedTest
  @ValueSource(strings = {"cgroup", "environ"})
  void killEndsTheWholeTreeIncludingWhatLeftTheSessionAndWasOrphaned(String mode) throws Exception {
    ProcessTrees trees = trees(mode);
    ProcessTrees.Tree tree = trees.tree("escaper-1");
    Process root = start(tree, ESCAPER);
    until("the escaper's three sleeps and its shell", () -> tagged(tree).size() >= 4);
    List<ProcessHandle> members = tagged(tree);
    members.forEach(p -> processes.track(p.pid()));
    assertThat(tree.size()).isGreaterThanOrEqualTo(4);
    ProcessTrees.Tree other = trees.tree("bystander");
    Process bystander = start(other, List.of("sleep", "600"));

    assertThat(tree.kill()).isZero();

    assertThat(root.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    for (ProcessHandle member : members) {
      until("process " + member.pid() + " of the tree to end", () -> !member.isAlive());
    }
    assertThat(tagged(tree)).isEmpty();
    assertThat(tree.size()).isZero();
    assertThat(bystander.isAlive()).as("a process of another tree").isTrue();
    other.kill();
  }

  /** Two trees of escapers, running, their members tracked. */
  private static List<ProcessHandle> twoTrees(ProcessTrees.Tree a, ProcessTrees.Tree b) throws Exception {
    start(a, ESCAPER);
    start(b, ESCAPER);
    until("both trees running", () -> tagged(a).size() >= 4 && tagged(b).size() >= 4);
    List<ProcessHandle> members = new ArrayList<>(tagged(a));
    members.addAll(tagged(b));
    members.forEach(p -> processes.track(p.pid()));
    return members;
  }

  /**
   * The janitor, started as the agent starts it (with the parent-death signal) by a stand-in for the agent: a shell
   * that starts it and waits, so that the test can kill "the agent" as a whole process. Reads its "ready" line.
   */
  private static final class Janitor {
    final Process agent;
    final ProcessHandle janitor;
    final java.io.BufferedReader output;

    Janitor(ProcessTrees trees) throws Exception {
      List<String> command = new ArrayList<>(List.of("sh", "-c", "setpriv --pdeathsig TERM -- \"$@\" & wait", "agent"));
      command.addAll(trees.janitor());
      agent = processes.track(new ProcessBuilder(command).redirectErrorStream(true).start());
      output = new java.io.BufferedReader(new java.io.InputStreamReader(agent.getInputStream(), StandardCharsets.UTF_8));
      // setpriv arms the signal and execs the shell, which says when its traps are set: from then on a signal counts.
      assertThat(output.readLine()).isEqualTo("ready");
      janitor = agent.toHandle().children().findFirst().orElseThrow();
      processes.track(janitor.pid());
    }

    void signal(String name) throws Exception {
      assertThat(new ProcessBuilder("/bin/kill", "-s", name, String.valueOf(janitor.pid())).start().waitFor()).isZero();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"cgroup", "environ"})
  void theJanitorEndsEveryTreeWhenItsAgentIsKilledAndIgnoresSignalsWhileTheAgentLives(String mode) throws Exception {
    ProcessTrees trees = trees(mode);
    ProcessTrees.Tree a = trees.tree("a");
    ProcessTrees.Tree b = trees.tree("b");
    List<ProcessHandle> members = twoTrees(a, b);
    Janitor janitor = new Janitor(trees);

    // A SIGTERM or SIGHUP sent to every process of a job or session (Slurm's at scancel, a closed terminal's) while
    // the agent lives is the agent's to handle, each tree with its stop signal and grace: the janitor says so and
    // sweeps nothing. (SIGINT too, but this stand-in agent starts it in the background, where sh ignores SIGINT.)
    janitor.signal("TERM");
    assertThat(janitor.output.readLine()).isEqualTo("ignored: the agent lives");
    janitor.signal("HUP");
    assertThat(janitor.output.readLine()).isEqualTo("ignored: the agent lives");
    assertThat(members).allMatch(ProcessHandle::isAlive);
    assertThat(janitor.janitor.isAlive()).isTrue();

    // The agent SIGKILLed: its death signal wakes the janitor, which ends every tree and exits.
    janitor.agent.destroyForcibly();
    until("the janitor to exit", () -> !janitor.janitor.isAlive());
    for (ProcessHandle member : members) {
      until("process " + member.pid() + " to end", () -> !member.isAlive());
    }
    assertThat(tagged(a)).isEmpty();
    assertThat(tagged(b)).isEmpty();
  }

  @ParameterizedTest
  @ValueSource(strings = {"cgroup", "environ"})
  void theJanitorSweepsAndExitsWhenItsAgentStops(String mode) throws Exception {
    ProcessTrees trees = trees(mode);
    ProcessTrees.Tree a = trees.tree("a");
    ProcessTrees.Tree b = trees.tree("b");
    List<ProcessHandle> members = twoTrees(a, b);
    Janitor janitor = new Janitor(trees);

    // SIGUSR1 is what a stopping agent sends it (AgentServer.stop): whatever is left of the trees goes, and so does it.
    janitor.signal("USR1");
    until("the janitor to exit", () -> !janitor.janitor.isAlive());
    for (ProcessHandle member : members) {
      until("process " + member.pid() + " to end", () -> !member.isAlive());
    }
  }

  @org.junit.jupiter.api.Test
  void anEnvironmentEntryMatchesOnlyWhole() {
    byte[] environ = "A=1\0SPOKE_TREE=t/x1\0B=2\0".getBytes(StandardCharsets.UTF_8);
    assertThat(ProcessTrees.hasEntry(environ, "SPOKE_TREE=t/x1".getBytes(StandardCharsets.UTF_8))).isTrue();
    assertThat(ProcessTrees.hasEntry(environ, "SPOKE_TREE=t/x".getBytes(StandardCharsets.UTF_8))).isFalse();
    assertThat(ProcessTrees.hasEntry(environ, "B=2".getBytes(StandardCharsets.UTF_8))).isTrue();
    assertThat(ProcessTrees.hasEntry(new byte[0], "B=2".getBytes(StandardCharsets.UTF_8))).isFalse();
  }
}
