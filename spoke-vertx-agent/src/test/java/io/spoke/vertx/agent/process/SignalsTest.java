// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.process;

import static io.spoke.vertx.test.Await.until;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SignalsTest {

  @Test
  void killReachesAProcessAndAWholeProcessGroupAndSaysWhenNobodyIsThere() throws Exception {
    assertThat(Signals.available()).as("JNA's kill(2) loads here").isTrue();
    assertThat(Signals.send(ProcessHandle.current().pid(), 0)).as("signal 0 to this JVM: it exists").isZero();

    // A process group of its own: setsid's sh and its sleep child.
    Process group = new ProcessBuilder("setsid", "sh", "-c", "sleep 600 & echo $!; wait").start();
    long child = -1;
    try {
      child = Long.parseLong(new BufferedReader(new InputStreamReader(group.getInputStream(), StandardCharsets.UTF_8)).readLine().strip());
      assertThat(Signals.send(-group.pid(), 9)).isZero();
      assertThat(group.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(group.exitValue()).as("sh, SIGKILLed with its group").isEqualTo(128 + 9);
      long sleeper = child;
      until("the group's sleep to be gone too", () -> ProcessHandle.of(sleeper).map(h -> !h.isAlive()).orElse(true));
      assertThat(Signals.send(group.pid(), 0)).as("gone").isEqualTo(Signals.ESRCH);
    } finally {
      group.destroyForcibly();
      if (child > 0) {
        ProcessHandle.of(child).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
  }

  @Test
  void neverSignalsItsOwnGroupOrEveryone() {
    assertThatThrownBy(() -> Signals.send(0, 9)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Signals.send(-1, 9)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Signals.send(1L << 40, 9)).isInstanceOf(IllegalArgumentException.class);
  }
}
