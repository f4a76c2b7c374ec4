// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** What a task reads from Slurm's environment and {@code scontrol}, and the ports and token a step derives. */
class SlurmStepTest {

  /** {@code scontrol} as Slurm 22.05 answers for a two-node step whose second node's address is {@code secondAddress}. */
  private static SlurmStep.Scontrol scontrol(String secondAddress) {
    return new SlurmStep.Scontrol() {
      @Override
      public List<String> hostnames(String nodeList) {
        assertThat(nodeList).isEqualTo("gpu[07-08]");
        return List.of("gpu07", "gpu08");
      }

      @Override
      public String showNodes(String nodeList) {
        return "NodeName=gpu07 Arch=x86_64 CoresPerSocket=1 CPUAlloc=0 Gres=gpu:4 NodeAddr=127.0.0.1 NodeHostName=vm Port=6818\n"
          + "NodeName=gpu08 Arch=x86_64 CoresPerSocket=1 CPUAlloc=0 Gres=gpu:4 NodeAddr=" + secondAddress + " NodeHostName=vm2\n";
      }
    };
  }

  private static Map<String, String> step() {
    Map<String, String> env = new HashMap<>();
    env.put("SLURM_JOB_ID", "4242");
    env.put("SLURM_STEP_ID", "1");
    env.put("SLURM_NODEID", "1");
    env.put("SLURMD_NODENAME", "gpu08");
    env.put("SLURM_STEP_NODELIST", "gpu[07-08]");
    env.put("SLURM_STEP_NUM_NODES", "2");
    env.put("SLURM_STEP_NUM_TASKS", "2");
    env.put("SLURM_STEP_TASKS_PER_NODE", "1(x2)");
    env.put("SLURM_CPUS_ON_NODE", "8");
    env.put("CUDA_VISIBLE_DEVICES", "2,3");
    env.put("SLURM_STEP_GPUS", "2,3");
    return env;
  }

  @Test
  void aTaskKnowsItsStepItsNodeEveryNodesAddressAndItsShareOfTheStep() {
    SlurmStep step = SlurmStep.read(step(), scontrol("127.0.0.2"));
    assertThat(step.jobId()).isEqualTo(4242);
    assertThat(step.stepId()).isEqualTo(1);
    assertThat(step.nodes()).containsExactly("gpu07", "gpu08");
    assertThat(step.addresses()).containsExactly("127.0.0.1", "127.0.0.2");
    assertThat(step.node()).isEqualTo(1);
    assertThat(step.runsHub()).isFalse();
    assertThat(step.name()).isEqualTo("gpu08");
    assertThat(step.address()).isEqualTo("127.0.0.2");
    assertThat(step.gpus()).containsExactly("2", "3");
    assertThat(step.cpus()).isEqualTo(8);
  }

  @Test
  void withoutCudaVisibleDevicesTheStepsGpusComeFromSlurmStepGpus() {
    Map<String, String> env = step();
    env.remove("CUDA_VISIBLE_DEVICES");
    env.put("SLURM_STEP_GPUS", "1");
    assertThat(SlurmStep.read(env, scontrol("127.0.0.2")).gpus()).containsExactly("1");
    env.remove("SLURM_STEP_GPUS");
    assertThat(SlurmStep.read(env, scontrol("127.0.0.2")).gpus()).isEmpty();
  }

  @Test
  void outsideAStepTheErrorSaysToStartItWithSrun() {
    Map<String, String> env = step();
    env.remove("SLURM_STEP_ID");
    assertThatThrownBy(() -> SlurmStep.read(env, scontrol("127.0.0.2"))).isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("SLURM_STEP_ID is not set").hasMessageContaining("srun -N2 --ntasks-per-node=1");
  }

  @Test
  void moreThanOneTaskPerNodeIsRefused() {
    Map<String, String> env = step();
    env.put("SLURM_STEP_NUM_TASKS", "4");
    env.put("SLURM_STEP_TASKS_PER_NODE", "2(x2)");
    assertThatThrownBy(() -> SlurmStep.read(env, scontrol("127.0.0.2")))
      .hasMessageContaining("this step has 4 tasks on 2 nodes (SLURM_STEP_TASKS_PER_NODE=2(x2))")
      .hasMessageContaining("srun --ntasks-per-node=1");
  }

  @Test
  void aNodeAddressThatDoesNotResolveIsRefusedNamingTheNode() {
    assertThatThrownBy(() -> SlurmStep.read(step(), scontrol("no-such-node.invalid")))
      .hasMessageContaining("node gpu08's address no-such-node.invalid (its NodeAddr in Slurm) does not resolve");
  }

  @Test
  void aMalformedNumberNamesItsVariable() {
    Map<String, String> env = step();
    env.put("SLURM_JOB_ID", "12_3");
    assertThatThrownBy(() -> SlurmStep.read(env, scontrol("127.0.0.2"))).hasMessageContaining("SLURM_JOB_ID should be a whole number");
  }

  @Test
  void stepsTakePortBlocksBelowTheEphemeralRangeApartFromTheirNeighbours() {
    Set<Integer> blocks = new HashSet<>();
    for (long job = 1000; job < 1040; job++) {
      int start = SlurmRun.blockStart(job, 0, 0);
      assertThat(start).isBetween(SlurmRun.FIRST, SlurmRun.LAST - SlurmRun.BLOCK + 1);
      assertThat((start - SlurmRun.FIRST) % SlurmRun.BLOCK).isZero();
      assertThat(SlurmRun.blockStart(job, 0, 0)).as("every task of a step derives the same block").isEqualTo(start);
      assertThat(SlurmRun.blockStart(job, 0, 1)).isNotEqualTo(start);
      blocks.add(start);
    }
    // 40 consecutive jobs: scattered over the 199 blocks, not all in a row (a few may share one; binding decides then).
    assertThat(blocks.size()).isGreaterThan(30);
    assertThat(SlurmRun.blockStart(1000, 1, 0)).isNotEqualTo(SlurmRun.blockStart(1000, 0, 0));
  }

  @Test
  void eachStepHasATokenOfItsOwnDerivedFromTheUsersSecret() {
    byte[] secret = "a-users-secret-of-enough-characters".getBytes(StandardCharsets.UTF_8);
    String token = SlurmRun.stepToken(secret, 4242, 1);
    assertThat(SlurmRun.stepToken(secret, 4242, 1)).isEqualTo(token);
    assertThat(SlurmRun.stepToken(secret, 4242, 2)).isNotEqualTo(token);
    assertThat(SlurmRun.stepToken(secret, 4243, 1)).isNotEqualTo(token);
    assertThat(SlurmRun.stepToken("another-users-secret-of-enough-chars".getBytes(StandardCharsets.UTF_8), 4242, 1)).isNotEqualTo(token);
    assertThat(token).doesNotContain("a-users-secret").hasSizeGreaterThanOrEqualTo(32);
  }

  @Test
  void slurmNodeNamesBecomeNodeIds() {
    assertThat(SlurmRun.nodeId("gpu-07.rack3")).isEqualTo("gpu-07.rack3");
    assertThat(SlurmRun.nodeId("node:7")).isEqualTo("node_7");
  }
}
