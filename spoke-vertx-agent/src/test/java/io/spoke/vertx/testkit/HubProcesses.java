// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.testkit;

import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.test.ProcessCleanup;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * What the tests of several hubs share: a role (a hub, an agent) in a Java process of its own, started through a
 * launcher (none, or {@code ip netns exec HOST}) with its output appended to a file; waits for the lines it logs and
 * for the status a client sees while hubs fail over.
 */
public final class HubProcesses {

  private HubProcesses() {
  }

  /** {@code main} of this class path, through {@code launcher}, its output appended to {@code out}; tracked for clean-up. */
  public static Process java(ProcessCleanup processes, Path out, List<String> launcher, String main, String... args) throws Exception {
    List<String> command = new ArrayList<>(launcher);
    command.addAll(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(), "-XX:+UseSerialGC", "-cp",
      System.getProperty("java.class.path"), main));
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(out.toFile()))
      .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    processes.track(process.pid());
    return process;
  }

  /** How often {@code what} occurs in {@code text}. */
  public static int count(String text, String what) {
    int n = 0;
    for (int at = text.indexOf(what); at >= 0; at = text.indexOf(what, at + 1)) {
      n++;
    }
    return n;
  }

  /** Waits until {@code out} holds {@code what} more than {@code before} times; fails with the output after 60 s. */
  public static void awaitLine(Path out, String what, int before) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (count(Files.readString(out), what) > before) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError(out + " did not say '" + what + "' within 60 s:\n" + Files.readString(out));
  }

  /**
   * The time of day, in ms, that the first line of {@code out} holding {@code what} after {@code skip} such lines
   * begins with (Log4j's {@code HH:mm:ss.SSS}).
   */
  public static long loggedAt(Path out, String what, int skip) throws Exception {
    int seen = 0;
    for (String line : Files.readAllLines(out)) {
      if (line.contains(what) && seen++ == skip) {
        String[] t = line.substring(0, 12).split("[:.]");
        return ((Long.parseLong(t[0]) * 60 + Long.parseLong(t[1])) * 60 + Long.parseLong(t[2])) * 1_000 + Long.parseLong(t[3]);
      }
    }
    throw new AssertionError(out + " has no line '" + what + "' (#" + (skip + 1) + ")");
  }

  /** The status once {@code ready} holds, asked again while hubs fail over; fails with the last one after 60 s. */
  public static ClusterStatus awaitStatus(SpokeClient client, Predicate<ClusterStatus> ready) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    Throwable last = null;
    ClusterStatus seen = null;
    while (System.nanoTime() < deadline) {
      try {
        seen = client.status().await(5, TimeUnit.SECONDS);
        if (ready.test(seen)) {
          return seen;
        }
      } catch (Exception e) {
        last = e;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("the cluster did not reach the expected state; last status " + (seen == null ? null : seen.toJson())
      + ", last failure: " + last);
  }
}
