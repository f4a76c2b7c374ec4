// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.run;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.spoke.vertx.test.ProcessCleanup;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The end of a job on a real Slurm that tracks a step's processes by process group (proctrack/pgid): Spoke's ranks
 * run in process groups of their own, which Slurm does not see, so it is Spoke that must stop them. {@link SlurmIT}
 * runs on proctrack/linuxproc. proctrack/cgroup cannot run on this machine: its sandbox's cgroup v1 freezer has no
 * {@code freezer.state}, and slurmstepd fails every launch ("cgroup namespace 'freezer' not mounted").
 */
class SlurmPgidIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @TempDir
  static Path slurmDir;

  @TempDir
  Path dir;

  private static SlurmKit kit;

  @BeforeAll
  static void startSlurm() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "slurmd runs as root: SlurmPgidIT needs root (CI runs as root)");
    kit = new SlurmKit(slurmDir, processes).start(2, 4, "127.0.0.1,127.0.0.3", "", "pgid", false);
  }

  @AfterAll
  static void stopSlurm() throws Exception {
    if (kit != null) {
      kit.stop();
    }
  }

  @AfterEach
  void cancelJobs() throws Exception {
    if (kit != null) {
      kit.cancelAll(dir);
    }
  }

  @Test
  void scancelStopsEveryRankWithItsStopSignalAndLeavesNoProcessOfTheJob() throws Exception {
    kit.scancelLeavesNothing(dir, "n1,n2");
  }
}
