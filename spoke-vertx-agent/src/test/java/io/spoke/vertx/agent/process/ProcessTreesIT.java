package io.spoke.vertx.agent.process;

import static io.spoke.vertx.test.Await.until;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.spoke.vertx.test.ProcessCleanup;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real process trees that try to get away (a double fork, {@code setsid}) are ended whole: by a kill, and by the
 * janitor when the thread that started it (the agent, in production) is gone. Both ways of keeping trees: a cgroup
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

  @ParameterizedTest
  @ValueSource(strings = {"cgroup", "environ"})
  void theJanitorEndsEveryTreeWhenTheThreadThatStartedItIsGone(String mode) throws Exception {
    ProcessTrees trees = trees(mode);
    ProcessTrees.Tree a = trees.tree("a");
    ProcessTrees.Tree b = trees.tree("b");
    start(a, ESCAPER);
    start(b, ESCAPER);
    until("both trees running", () -> tagged(a).size() >= 4 && tagged(b).size() >= 4);
    List<ProcessHandle> members = new ArrayList<>(tagged(a));
    members.addAll(tagged(b));
    members.forEach(p -> processes.track(p.pid()));

    // As the agent's launcher thread does: start the janitor with the parent-death signal, from a thread that then
    // ends, as every thread of an agent does when it is SIGKILLed.
    AtomicReference<Process> janitor = new AtomicReference<>();
    List<String> command = new ArrayList<>(List.of("setpriv", "--pdeathsig", "TERM", "--"));
    command.addAll(trees.janitor());
    Thread starter = new Thread(() -> {
      try {
        Process started = processes.track(new ProcessBuilder(command).redirectErrorStream(true).start());
        // setpriv arms the signal and execs the shell, which says when its trap is set: from then on the signal sweeps.
        String first = new java.io.BufferedReader(new java.io.InputStreamReader(started.getInputStream(), StandardCharsets.UTF_8))
          .readLine();
        assertThat(first).isEqualTo("ready");
        janitor.set(started);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    starter.start();
    starter.join();

    until("the janitor to exit", () -> janitor.get() != null && !janitor.get().isAlive());
    for (ProcessHandle member : members) {
      until("process " + member.pid() + " to end", () -> !member.isAlive());
    }
    assertThat(tagged(a)).isEmpty();
    assertThat(tagged(b)).isEmpty();
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
