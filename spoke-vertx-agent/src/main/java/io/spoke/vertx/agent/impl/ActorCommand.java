// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.internal.ActorHostLaunch;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.file.Paths;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * How an agent starts an actor host, from values only: its command line, its environment (the contract of
 * {@link ActorHostLaunch}: where its agent is, its one-time secret; and what the actor sees: its GPUs, its gang rank's
 * torch.distributed variables), the first line of its standard input (the cluster token) and the header of its log.
 * Nothing here reads the machine or starts anything: {@link io.spoke.vertx.agent.process.ProcessLauncher} does.
 */
final class ActorCommand {

  /**
   * The agent's side of an actor host's environment.
   *
   * @param host          where the actor host connects back to its agent
   * @param port          the agent's port
   * @param pid           the agent's pid (the host exits when it is gone)
   * @param bindHost      the address the actor listens on
   * @param maxFrameSize  the largest frame
   * @param nodeId        the node's id, or null before the hub named it
   * @param security      TLS files the host uses too
   * @param gpuEnvManaged whether the agent was given a subset of the GPUs ({@link NodeInventory#gpuEnvManaged})
   */
  record AgentSide(String host, int port, long pid, String bindHost, int maxFrameSize, String nodeId, SecurityOptions security,
                   boolean gpuEnvManaged) {
  }

  /**
   * The actor's side of its host's environment.
   *
   * @param actorId     the actor's id
   * @param actorType   its type
   * @param gpuIds      exactly its GPUs
   * @param slot        its gang rank, or null for an ad-hoc actor
   * @param secret      the one-time secret it proves when it connects back
   * @param localSocket the Unix socket it is to open, or null
   */
  record ActorSide(String actorId, String actorType, List<Integer> gpuIds, Slot slot, String secret, String localSocket) {
  }

  private ActorCommand() {
  }

  /** {@code java}, the JVM options, the class path, then the actor host's main class. */
  static List<String> command(String javaCommand, List<String> jvmOptions, String classpath) {
    List<String> command = new ArrayList<>();
    command.add(javaCommand);
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(classpath);
    command.add(ActorHostLaunch.MAIN_CLASS);
    return command;
  }

  /** The java the agent starts actor hosts with: the option, or the agent's own. */
  static String javaCommand(AgentOptions options) {
    return options.getJavaCommand() != null ? options.getJavaCommand() : Paths.get(System.getProperty("java.home"), "bin", "java").toString();
  }

  /** The actor hosts' class path: the option, or the agent's own. */
  static String classpath(AgentOptions options) {
    return options.getActorClasspath() != null ? options.getActorClasspath() : System.getProperty("java.class.path");
  }

  /**
   * The complete environment of an actor host: {@code inherited} (the agent's own), the user's {@code userEnv} over
   * it, then what Spoke sets, which the user cannot override; never the cluster token.
   */
  static Map<String, String> environment(Map<String, String> inherited, Map<String, String> userEnv, ActorSide actor, AgentSide agent) {
    Map<String, String> env = new HashMap<>(inherited);
    // UCX (the RDMA data plane) warns at every start that Debian's 1.13 is older than jucx's API; errors still show.
    env.putIfAbsent("UCX_LOG_LEVEL", "error");
    env.putAll(userEnv);
    rankEnvironment(env, actor.gpuIds(), actor.slot(), agent.gpuEnvManaged());
    env.put(ActorHostLaunch.ENV_AGENT_HOST, agent.host());
    env.put(ActorHostLaunch.ENV_AGENT_PORT, String.valueOf(agent.port()));
    env.put(ActorHostLaunch.ENV_AGENT_PID, String.valueOf(agent.pid()));
    env.put(ActorHostLaunch.ENV_ACTOR_ID, actor.actorId());
    env.put(ActorHostLaunch.ENV_SECRET, actor.secret());
    env.put(ActorHostLaunch.ENV_BIND_HOST, agent.bindHost());
    if (actor.localSocket() != null) {
      env.put(ActorHostLaunch.ENV_LOCAL_SOCKET, actor.localSocket());
    }
    env.put(ActorHostLaunch.ENV_MAX_FRAME_SIZE, String.valueOf(agent.maxFrameSize()));
    // The token goes to the actor host on its standard input, not in an environment its children would inherit.
    env.remove(SecurityOptions.ENV_TOKEN);
    ActorHostLaunch.putTls(agent.security(), env);
    env.put("SPOKE_NODE_ID", agent.nodeId() == null ? "" : agent.nodeId());
    env.put("SPOKE_ACTOR_TYPE", actor.actorType());
    return env;
  }

  /** The agent's side of its actor hosts' environment, as {@code state} has it now. */
  static AgentSide agentSide(AgentState state) {
    AgentOptions options = state.options;
    return new AgentSide(agentHostForChildren(options.getHost()), state.port, ProcessHandle.current().pid(),
      state.advertiseHost != null ? state.advertiseHost : options.getHost(), options.getMaxFrameSize(), state.nodeId,
      options.getSecurity(), state.inventory.gpuEnvManaged);
  }

  /**
   * The environment of a warm host: the agent's own and the agent's side, its name in the pool, its secret and the Unix
   * socket it rehearses on ({@code null}: none), and no
   * GPU ({@code CUDA_VISIBLE_DEVICES} empty): it is no actor yet, and the JVM keeps this environment when it becomes one.
   */
  static Map<String, String> warmEnvironment(Map<String, String> inherited, String hostId, String secret, String socket,
                                             AgentSide agent) {
    Map<String, String> env = environment(inherited, Map.of(), new ActorSide(hostId, "", List.of(), null, secret, socket), agent);
    rankEnvironment(env, List.of(), null, true);
    env.remove("SPOKE_ACTOR_TYPE");
    env.put(ActorHostLaunch.ENV_WARM, "1");
    return env;
  }

  /**
   * What an actor's {@code ActorContext.env()} holds: its spawn's {@code userEnv}, then what Spoke sets for it (its GPUs
   * and gang rank as {@link #rankEnvironment} sets them, its id, node, type and attempt). A cold actor's host has these in
   * its process environment too.
   */
  static Map<String, String> actorEnvironment(Map<String, String> userEnv, String actorId, List<Integer> gpuIds, Slot slot,
                                              boolean gpuEnvManaged, String nodeId, String actorType, int attempt) {
    Map<String, String> env = new java.util.LinkedHashMap<>(userEnv);
    rankEnvironment(env, gpuIds, slot, gpuEnvManaged);
    env.put(ActorHostLaunch.ENV_ACTOR_ID, actorId);
    env.put("SPOKE_NODE_ID", nodeId == null ? "" : nodeId);
    env.put("SPOKE_ACTOR_TYPE", actorType);
    env.put("SPOKE_ATTEMPT", String.valueOf(attempt));
    return env;
  }

  /**
   * What every process Spoke starts sees of its place (a Java actor's host and a managed process alike): exactly its
   * GPUs, and its gang rank's torch.distributed variables.
   */
  static void rankEnvironment(Map<String, String> env, List<Integer> gpuIds, Slot slot, boolean gpuEnvManaged) {
    if (!gpuIds.isEmpty() || gpuEnvManaged || slot != null) {
      // The actor sees exactly its GPUs, also when the agent itself was given a subset (never the agent's whole
      // set); a gang actor without GPUs sees none (Spoke's managed mode). Only ad-hoc actors without GPUs, on an
      // agent that was not given a subset, inherit the agent's environment.
      String ids = gpuIds.stream().map(String::valueOf).collect(Collectors.joining(","));
      env.put("CUDA_VISIBLE_DEVICES", ids);
      env.put("CUDA_DEVICE_ORDER", "PCI_BUS_ID");
      env.put("ROCR_VISIBLE_DEVICES", ids);
    }
    if (slot != null) {
      // What torch.distributed's env:// rendezvous and NCCL read: the gang forms a process group as is.
      env.put("RANK", String.valueOf(slot.globalRank()));
      env.put("WORLD_SIZE", String.valueOf(slot.worldSize()));
      env.put("LOCAL_RANK", String.valueOf(slot.localRank()));
      env.put("LOCAL_WORLD_SIZE", String.valueOf(slot.localWorldSize()));
      env.put("MASTER_ADDR", slot.masterAddr());
      env.put("MASTER_PORT", String.valueOf(slot.masterPort()));
      env.put("SPOKE_TICKET", slot.ticketId());
    }
  }

  /**
   * The complete environment of a managed process: {@code inherited} (the agent's own, without the cluster token), the
   * user's {@code userEnv} over it, then what Spoke sets: its GPUs and rank ({@link #rankEnvironment}),
   * {@code SPOKE_NODE_ID}, {@code SPOKE_NODE_IP} (the node's advertised address), {@code SPOKE_PROCESS_ID},
   * {@code SPOKE_PORT_0}.. for its {@code ports}, {@code SPOKE_ATTEMPT}, and the tag of its process tree.
   */
  static Map<String, String> processEnvironment(Map<String, String> inherited, Map<String, String> userEnv, String processId,
                                                List<Integer> gpuIds, Slot slot, boolean gpuEnvManaged, String nodeId, String nodeIp,
                                                List<Integer> ports, int attempt, Map.Entry<String, String> treeTag) {
    Map<String, String> env = new HashMap<>(inherited);
    env.remove(SecurityOptions.ENV_TOKEN);
    env.putAll(userEnv);
    rankEnvironment(env, gpuIds, slot, gpuEnvManaged);
    env.put("SPOKE_NODE_ID", nodeId == null ? "" : nodeId);
    env.put("SPOKE_NODE_IP", nodeIp == null ? "" : nodeIp);
    env.put("SPOKE_PROCESS_ID", processId);
    for (int i = 0; i < ports.size(); i++) {
      env.put("SPOKE_PORT_" + i, String.valueOf(ports.get(i)));
    }
    env.put("SPOKE_ATTEMPT", String.valueOf(attempt));
    env.put(treeTag.getKey(), treeTag.getValue());
    return env;
  }

  /** What torch.distributed's gloo backend reads for the interface it listens on and tells its peers. */
  static final String GLOO_SOCKET_IFNAME = "GLOO_SOCKET_IFNAME";

  /**
   * Names, for a gang rank, the network interface that holds its node's advertised address in
   * {@value #GLOO_SOCKET_IFNAME}, unless its environment already names one. Left to itself gloo takes the address its
   * host name resolves to, which on many hosts (Debian's 127.0.1.1, a network namespace, a container) is a loopback
   * address that the ranks of other nodes cannot reach, and the job fails connecting to it. NCCL chooses its interface
   * by other rules (not loopback, InfiniBand first) and is left as it is.
   *
   * @param nodeInterface the interface of the node's advertised address ({@link #interfaceOf}), or null
   */
  static void gangSocketInterface(Map<String, String> env, Slot slot, String nodeInterface) {
    if (slot != null && nodeInterface != null && !env.containsKey(GLOO_SOCKET_IFNAME)) {
      env.put(GLOO_SOCKET_IFNAME, nodeInterface);
    }
  }

  /**
   * The name of the local network interface that holds {@code address}, or null where none does (an address behind a
   * NAT, a name that does not resolve). Blocking: a name is resolved, and the interfaces are read.
   */
  static String interfaceOf(String address) {
    if (address == null || address.isEmpty()) {
      return null;
    }
    try {
      NetworkInterface nic = NetworkInterface.getByInetAddress(InetAddress.getByName(address));
      return nic == null ? null : nic.getName();
    } catch (UnknownHostException | SocketException e) {
      return null;
    }
  }

  /** The first line of an actor host's standard input: the cluster token, or nothing. */
  static byte[] tokenLine(byte[] token) {
    byte[] line = new byte[(token == null ? 0 : token.length) + 1];
    if (token != null) {
      System.arraycopy(token, 0, line, 0, token.length);
    }
    line[line.length - 1] = '\n';
    return line;
  }

  /** Where actor hosts reach an agent that listens on {@code host}: loopback for a wildcard address. */
  static String agentHostForChildren(String host) {
    return "0.0.0.0".equals(host) ? "127.0.0.1" : "::".equals(host) ? "::1" : host;
  }

  /** The first lines of an actor's log: who it is, its gang rank and its GPUs. */
  static String logHeader(String actorId, String actorType, String nodeId, Slot slot, List<Integer> gpuIds, Instant started) {
    return "# Spoke actor '" + actorId + "' of type " + actorType + " on node " + nodeId + ", started " + started + "\n"
      + (slot == null ? "" : "# ticket " + slot.ticketId() + ", rank " + slot.globalRank() + " of " + slot.worldSize() + " (local rank "
      + slot.localRank() + " of " + slot.localWorldSize() + "), master " + slot.masterAddr() + ":" + slot.masterPort() + "\n")
      + "# GPUs: " + (gpuIds.isEmpty() ? "none" : gpuIds.toString()) + "\n";
  }
}
