// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.run;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What one task of a Slurm step learns from Slurm: the job and step, which node of the step it runs on, every node's
 * name and address as Slurm knows it ({@code NodeAddr}: node names often do not resolve in DNS), and this node's share
 * of the step (its GPUs, as {@code CUDA_VISIBLE_DEVICES} names them, and its CPUs). Read with {@link #read}; every way a
 * step can be unfit for {@code spoke run --slurm} is an {@link IllegalArgumentException} saying what to change.
 *
 * @param node this task's node: an index into {@code nodes}
 * @param gpus this node's GPUs for the step, as {@code CUDA_VISIBLE_DEVICES} lists them; empty for none
 */
record SlurmStep(long jobId, long stepId, int node, List<String> nodes, List<String> addresses, List<String> gpus, int cpus) {

  /** What {@code scontrol} answers; the real one runs the command, tests may give fixed answers. */
  interface Scontrol {

    /** {@code scontrol show hostnames LIST}: the names of a node list, in order. */
    List<String> hostnames(String nodeList) throws IOException;

    /** {@code scontrol show node -o LIST}: one line per node, its {@code Key=Value} fields. */
    String showNodes(String nodeList) throws IOException;
  }

  /** The {@code scontrol} on the PATH. */
  static final Scontrol SCONTROL = new Scontrol() {
    @Override
    public List<String> hostnames(String nodeList) throws IOException {
      return List.of(run("show", "hostnames", nodeList).strip().split("\\s+"));
    }

    @Override
    public String showNodes(String nodeList) throws IOException {
      return run("show", "node", "-o", nodeList);
    }

    private String run(String... args) throws IOException {
      List<String> command = new ArrayList<>(List.of("scontrol"));
      command.addAll(List.of(args));
      Process process;
      try {
        process = new ProcessBuilder(command).redirectErrorStream(true).start();
      } catch (IOException e) {
        throw new IOException("cannot run scontrol (is this a Slurm node?): " + e.getMessage(), e);
      }
      try (InputStream in = process.getInputStream()) {
        String output = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          throw new IOException("scontrol " + String.join(" ", args) + " did not answer within 30 s");
        }
        if (process.exitValue() != 0) {
          throw new IOException("scontrol " + String.join(" ", args) + " failed: " + output.strip());
        }
        return output;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while scontrol ran", e);
      }
    }
  };

  /** The node whose task runs the hub (and the gang's rank 0). */
  boolean runsHub() {
    return node == 0;
  }

  String name() {
    return nodes.get(node);
  }

  String address() {
    return addresses.get(node);
  }

  /**
   * Reads the step from a task's environment ({@code SLURM_JOB_ID}, {@code SLURM_STEP_ID}, {@code SLURM_NODEID},
   * {@code SLURM_STEP_NODELIST}, {@code SLURM_STEP_NUM_TASKS}, {@code CUDA_VISIBLE_DEVICES} or {@code SLURM_STEP_GPUS},
   * {@code SLURM_CPUS_ON_NODE}) and node addresses from {@code scontrol}. Blocking (it runs {@code scontrol}).
   *
   * @throws IllegalArgumentException outside a step, with more than one task per node, or when a node's address does
   *     not resolve: what to change
   */
  static SlurmStep read(Map<String, String> env, Scontrol scontrol) {
    String job = env.get("SLURM_JOB_ID");
    String step = env.get("SLURM_STEP_ID");
    if (job == null || step == null) {
      throw new IllegalArgumentException("--slurm runs as the tasks of a Slurm step, one per node, but "
        + (job == null ? "SLURM_JOB_ID" : "SLURM_STEP_ID") + " is not set: start it with srun, as in "
        + "srun -N2 --ntasks-per-node=1 --gres=gpu:4 ./spoke run --slurm --per-node 4 -- python3 train.py");
    }
    long jobId = number(env, "SLURM_JOB_ID");
    long stepId = number(env, "SLURM_STEP_ID");
    String nodeList = env.getOrDefault("SLURM_STEP_NODELIST", env.get("SLURM_JOB_NODELIST"));
    if (nodeList == null || nodeList.isBlank()) {
      throw new IllegalArgumentException("SLURM_STEP_NODELIST is not set: this does not look like a task of a Slurm step");
    }
    int nodeCount = (int) number(env, "SLURM_STEP_NUM_NODES");
    int tasks = (int) number(env, "SLURM_STEP_NUM_TASKS");
    if (tasks != nodeCount) {
      throw new IllegalArgumentException("--slurm wants one task per node, but this step has " + tasks + " tasks on " + nodeCount
        + " node" + (nodeCount == 1 ? "" : "s") + " (SLURM_STEP_TASKS_PER_NODE=" + env.get("SLURM_STEP_TASKS_PER_NODE")
        + "): run it with srun --ntasks-per-node=1; --per-node says how many ranks each node runs");
    }
    List<String> names;
    String shown;
    try {
      names = scontrol.hostnames(nodeList);
      shown = scontrol.showNodes(nodeList);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the step's nodes (" + nodeList + "): " + e.getMessage());
    }
    if (names.size() != nodeCount) {
      throw new IllegalArgumentException("the step's node list " + nodeList + " names " + names.size() + " nodes, but SLURM_STEP_NUM_NODES is "
        + nodeCount);
    }
    Map<String, String> nodeAddresses = nodeAddresses(shown);
    List<String> addresses = new ArrayList<>();
    for (String name : names) {
      String address = nodeAddresses.get(name);
      if (address == null) {
        throw new IllegalArgumentException("scontrol show node gives no NodeAddr for node " + name + " of the step");
      }
      try {
        InetAddress.getByName(address);
      } catch (UnknownHostException e) {
        throw new IllegalArgumentException("node " + name + "'s address " + address + " (its NodeAddr in Slurm) does not resolve; "
          + "give the node a NodeAddr that does (an IP address, say)");
      }
      addresses.add(address);
    }
    int node = (int) number(env, "SLURM_NODEID");
    String here = env.get("SLURMD_NODENAME");
    if (here != null && names.contains(here)) {
      node = names.indexOf(here);
    } else if (node >= names.size()) {
      throw new IllegalArgumentException("SLURM_NODEID " + node + " is not a node of the step's " + names.size());
    }
    return new SlurmStep(jobId, stepId, node, List.copyOf(names), List.copyOf(addresses), gpus(env), cpus(env));
  }

  /** This node's GPUs for the step: {@code CUDA_VISIBLE_DEVICES} as Slurm set it, else {@code SLURM_STEP_GPUS}. */
  private static List<String> gpus(Map<String, String> env) {
    String visible = env.get("CUDA_VISIBLE_DEVICES");
    if (visible == null) {
      visible = env.get("SLURM_STEP_GPUS");
    }
    if (visible == null || visible.isBlank() || visible.equals("NoDevFiles")) {
      return List.of();
    }
    List<String> gpus = new ArrayList<>();
    for (String id : visible.split(",")) {
      if (!id.isBlank()) {
        gpus.add(id.strip());
      }
    }
    return List.copyOf(gpus);
  }

  private static int cpus(Map<String, String> env) {
    String value = env.get("SLURM_CPUS_ON_NODE");
    return value == null ? -1 : (int) number(env, "SLURM_CPUS_ON_NODE");
  }

  /** {@code NodeName -> NodeAddr} from the lines of {@code scontrol show node -o}. */
  static Map<String, String> nodeAddresses(String shown) {
    Map<String, String> addresses = new HashMap<>();
    for (String line : shown.split("\n")) {
      String name = field(line, "NodeName");
      String address = field(line, "NodeAddr");
      if (name != null && address != null) {
        addresses.put(name, address);
      }
    }
    return addresses;
  }

  private static String field(String line, String key) {
    for (String token : line.strip().split("\\s+")) {
      if (token.startsWith(key + "=")) {
        return token.substring(key.length() + 1);
      }
    }
    return null;
  }

  private static long number(Map<String, String> env, String name) {
    String value = env.get(name);
    if (value == null) {
      throw new IllegalArgumentException(name + " is not set: this does not look like a task of a Slurm step (start it with srun)");
    }
    try {
      long n = Long.parseLong(value.strip());
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " should be a whole number, but is '" + value + "'");
    }
  }
}
