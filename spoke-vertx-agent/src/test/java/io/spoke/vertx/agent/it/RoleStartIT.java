// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code spoke hub} and {@code spoke agent} that cannot start, whatever failed (a port taken, a token file missing, a
 * state directory another hub holds): each says why on standard error and exits with status 1, and never stays up
 * with its event loop blocked (the exit used to run on the loop, which the shutdown hook then waited for).
 */
class RoleStartIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @TempDir
  Path dir;

  record Ended(int status, String output) {
  }

  /**
   * Runs {@code main}, which must end soon: a role that cannot start exits once it has said why. (Before, one whose
   * state directory had been opened sat for the 10 s its shutdown hook waited on its own blocked event loop.)
   */
  private Ended run(String main, String... args) throws Exception {
    Path out = dir.resolve("out-" + System.nanoTime() + ".txt");
    Process p = processes.track(TestCluster.java(List.of(), main, args).redirectErrorStream(true).redirectOutput(out.toFile()).start());
    assertThat(p.waitFor(8, TimeUnit.SECONDS)).as("the command ended within 8 s: " + Files.readString(out)).isTrue();
    return new Ended(p.exitValue(), Files.readString(out));
  }

  private static void assertCannotStart(Ended ended, String command, String why) {
    assertThat(ended.status()).as(ended.output()).isEqualTo(1);
    assertThat(ended.output()).contains(command + ": cannot start: ").contains(why).doesNotContain("has been blocked");
  }

  @Test
  void aHubThatCannotStartSaysWhyAndExits() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      assertCannotStart(run("io.spoke.vertx.hub.HubMain", "--port", String.valueOf(taken.getLocalPort()), "--http-port", "-1"),
        "spoke hub", "Address already in use");
    }
    assertCannotStart(run("io.spoke.vertx.hub.HubMain", "--port", "0", "--http-port", "-1", "--token-file",
      dir.resolve("no-such-token").toString()), "spoke hub", "no-such-token");

    Path state = Files.createDirectory(dir.resolve("state"));
    Path first = dir.resolve("first-hub.txt");
    Process holder = processes.track(TestCluster.java(List.of(), "io.spoke.vertx.hub.HubMain", "--port", "0", "--http-port", "-1",
      "--state-dir", state.toString()).redirectErrorStream(true).redirectOutput(first.toFile()).start());
    io.spoke.vertx.test.Await.until("the first hub to listen", () -> Files.readString(first).contains("Spoke hub listening on"));
    assertCannotStart(run("io.spoke.vertx.hub.HubMain", "--port", "0", "--http-port", "-1", "--state-dir", state.toString()),
      "spoke hub", "another hub uses the state directory " + state);
    assertThat(holder.isAlive()).isTrue();
  }

  @Test
  void anAgentThatCannotStartSaysWhyAndExits() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      assertCannotStart(run("io.spoke.vertx.agent.AgentMain", "--hub", "127.0.0.1:1", "--port", String.valueOf(taken.getLocalPort())),
        "spoke agent", "Address already in use");
    }
    assertCannotStart(run("io.spoke.vertx.agent.AgentMain", "--hub", "127.0.0.1:1", "--token-file", dir.resolve("no-such-token").toString()),
      "spoke agent", "no-such-token");
  }
}
