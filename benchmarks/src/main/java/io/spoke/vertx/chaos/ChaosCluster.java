// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.chaos;

import io.spoke.vertx.agent.AgentMain;
import io.spoke.vertx.hub.HubMain;
import io.spoke.vertx.test.EtcdCluster;
import io.spoke.vertx.test.TcpRelay;
import io.vertx.core.json.JsonObject;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The soak's cluster, every role a real process. With one hub: a hub with a state directory, and agents that reach it
 * through a relay each (so that their links can be cut); the client's relay too. With several ({@code --hubs 3}): the
 * hubs on a three-member etcd (their state there, a lease of 2 s), each behind a relay of its own that it advertises,
 * through which every agent and the client reach it (so that one hub's links can be cut, while it still reaches etcd).
 * It restarts what a fault killed, and knows every process it ever started, so that the end can check that none is
 * left.
 */
final class ChaosCluster implements AutoCloseable {

  /** A role's process: a hub or an agent, as it runs now. */
  static final class Role {

    final String name;
    final List<String> command;
    final Path out;
    volatile Process process;
    volatile int starts;

    Role(String name, List<String> command, Path out) {
      this.name = name;
      this.command = command;
      this.out = out;
    }

    long pid() {
      Process p = process;
      return p == null ? -1 : p.pid();
    }
  }

  static final long HEARTBEAT_MS = 200;
  static final long NODE_TIMEOUT_MS = 4_000;
  static final long CLIENT_GRACE_MS = 30_000;
  static final int GPUS_PER_NODE = 4;

  static final long LEASE_TTL_MS = 2_000;
  static final String ETCD_PREFIX = "/spoke/chaos";

  final Path dir;
  final Path tokenFile;
  final String token;
  final List<Integer> hubPorts = new ArrayList<>();
  final List<Role> hubs = new ArrayList<>();
  final List<Role> agents = new ArrayList<>();
  /** One hub: a relay per agent in front of the hub. Several: none (each hub's relay is in {@link #hubRelays}). */
  final List<TcpRelay> agentRelays = new ArrayList<>();
  /** One hub: the client's relay. Several: none. */
  final TcpRelay clientRelay;
  /** Several hubs: one relay in front of each, which it advertises; every agent and the client go through them. */
  final List<TcpRelay> hubRelays = new ArrayList<>();
  /** Several hubs: their etcd. */
  final EtcdCluster etcd;
  /** Every agent pid ever started, by node: their trees' tags name them. */
  final Map<Long, String> agentNodes = new ConcurrentHashMap<>();
  /** Every pid of a role ever started. */
  final List<Long> rolePids = new java.util.concurrent.CopyOnWriteArrayList<>();

  ChaosCluster(Path dir, int agentCount, int hubCount) throws Exception {
    this.dir = dir;
    byte[] random = new byte[24];
    new SecureRandom().nextBytes(random);
    this.token = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    this.tokenFile = dir.resolve("cluster.token");
    Files.createFile(tokenFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tokenFile, token + "\n");
    for (int i = 0; i < hubCount; i++) {
      try (ServerSocket socket = new ServerSocket(0)) {
        hubPorts.add(socket.getLocalPort());
      }
    }
    List<String> common = List.of("--token-file", tokenFile.toString(), "--heartbeat-interval", String.valueOf(HEARTBEAT_MS),
      "--node-timeout", String.valueOf(NODE_TIMEOUT_MS), "--client-grace-period", String.valueOf(CLIENT_GRACE_MS), "--http-port", "-1");
    if (hubCount == 1) {
      etcd = null;
      List<String> args = new ArrayList<>(List.of("--port", String.valueOf(hubPorts.get(0)), "--state-dir",
        dir.resolve("hub-state").toString()));
      args.addAll(common);
      hubs.add(new Role("hub", java(HubMain.class.getName(), args), dir.resolve("hub.out")));
    } else {
      etcd = EtcdCluster.start(rolePids::add, Files.createDirectories(dir.resolve("etcd")), 3);
      for (int i = 0; i < hubCount; i++) {
        TcpRelay relay = new TcpRelay("127.0.0.1", hubPorts.get(i));
        hubRelays.add(relay);
        List<String> args = new ArrayList<>(List.of("--port", String.valueOf(hubPorts.get(i)), "--etcd", etcd.endpoints(),
          "--etcd-prefix", ETCD_PREFIX, "--lease-ttl", String.valueOf(LEASE_TTL_MS), "--advertise", "127.0.0.1:" + relay.port()));
        args.addAll(common);
        hubs.add(new Role("hub-" + i, java(HubMain.class.getName(), args), dir.resolve("hub-" + i + ".out")));
      }
    }
    for (int i = 0; i < agentCount; i++) {
      String hubList;
      if (hubCount == 1) {
        TcpRelay relay = new TcpRelay("127.0.0.1", hubPorts.get(0));
        agentRelays.add(relay);
        hubList = "127.0.0.1:" + relay.port();
      } else {
        hubList = String.join(",", hubAddresses());
      }
      String node = "chaos-" + i;
      agents.add(new Role(node, java(AgentMain.class.getName(), List.of("--hub", hubList, "--node-id", node, "--gpus",
        String.valueOf(GPUS_PER_NODE), "--token-file", tokenFile.toString(), "--log-dir", dir.resolve("logs-" + node).toString(),
        "--reconnect-interval", "200", "--stop-timeout", "2000", "--warm-pool", i == 0 ? "1" : "0")), dir.resolve(node + ".out")));
    }
    clientRelay = hubCount == 1 ? new TcpRelay("127.0.0.1", hubPorts.get(0)) : null;
  }

  /** Where the agents and the client reach the hubs: the relays' addresses. */
  List<String> hubAddresses() {
    List<String> addresses = new ArrayList<>();
    if (clientRelay != null) {
      addresses.add("127.0.0.1:" + clientRelay.port());
    }
    hubRelays.forEach(relay -> addresses.add("127.0.0.1:" + relay.port()));
    return addresses;
  }

  /** Several hubs: the one that leads now (etcd's election key names its relay), or null when none does or etcd does not say. */
  Role leader() {
    if (etcd == null) {
      return hubs.get(0);
    }
    try {
      String out = etcd.etcdctl("get", "--print-value-only", ETCD_PREFIX + "/leader").trim();
      if (out.isEmpty()) {
        return null;
      }
      String address = new JsonObject(out).getString("address", "");
      for (int i = 0; i < hubRelays.size(); i++) {
        if (address.equals("127.0.0.1:" + hubRelays.get(i).port())) {
          return hubs.get(i);
        }
      }
    } catch (Exception e) {
      // no quorum, or etcdctl failed: no leader known
    }
    return null;
  }

  private static List<String> java(String main, List<String> args) {
    List<String> command = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
      "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dspoke.log.level=info", "-cp", System.getProperty("java.class.path"), main));
    command.addAll(args);
    return command;
  }

  /** Starts (or starts again) {@code role}; its output is appended to its file. */
  void start(Role role) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(role.command).redirectErrorStream(true)
      .redirectOutput(ProcessBuilder.Redirect.appendTo(role.out.toFile())).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    builder.environment().put("UCX_LOG_LEVEL", "error");
    Process process = builder.start();
    role.process = process;
    role.starts++;
    rolePids.add(process.pid());
    if (!hubs.contains(role)) {
      agentNodes.put(process.pid(), role.name);
    }
  }

  /** The node whose agent's tree tag is {@code tag} ({@code agent-PID-...}), or null for another agent's. */
  String nodeOfTag(String tag) {
    String[] parts = tag.split("-");
    if (parts.length < 2) {
      return null;
    }
    try {
      return agentNodes.get(Long.parseLong(parts[1]));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** Every tree tag of the agents this soak started (for the end's cgroup scan). */
  List<String> tags() {
    List<String> tags = new ArrayList<>();
    for (ProcScan.Member m : ProcScan.members()) {
      if (nodeOfTag(m.agentTag()) != null && !tags.contains(m.agentTag())) {
        tags.add(m.agentTag());
      }
    }
    return tags;
  }

  /** Sends {@code signal} (KILL, STOP, CONT, TERM) to {@code pid}; false if it was gone. */
  static boolean signal(long pid, String signal) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(pid)).redirectErrorStream(true).start();
      kill.getInputStream().readAllBytes();
      return kill.waitFor(5, TimeUnit.SECONDS) && kill.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Stops every role (SIGTERM, then SIGKILL after 20 s), closes the relays and stops etcd. */
  @Override
  public void close() {
    List<Role> roles = new ArrayList<>(agents);
    roles.addAll(hubs);
    for (Role role : roles) {
      Process p = role.process;
      if (p != null && p.isAlive()) {
        signal(p.pid(), "CONT");
        p.destroy();
      }
    }
    for (Role role : roles) {
      Process p = role.process;
      try {
        if (p != null && !p.waitFor(20, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    agentRelays.forEach(TcpRelay::close);
    hubRelays.forEach(TcpRelay::close);
    if (clientRelay != null) {
      clientRelay.close();
    }
    if (etcd != null) {
      etcd.close();
    }
  }

  /** Every etcd member running again (a fault may have killed one just before the end). */
  void etcdHealed() throws Exception {
    for (int i = 0; i < etcd.size(); i++) {
      if (!etcd.member(i).isAlive()) {
        etcd.restart(i);
      }
    }
  }

  /** Every relay that a fault may have left refusing: accepting again. */
  void openAll() {
    agentRelays.forEach(r -> r.refuse(false));
    hubRelays.forEach(r -> r.refuse(false));
    if (clientRelay != null) {
      clientRelay.refuse(false);
    }
  }
}
