// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.chaos;

import io.spoke.vertx.agent.AgentMain;
import io.spoke.vertx.hub.HubMain;
import io.spoke.vertx.test.TcpRelay;
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
 * The soak's cluster, every role a real process: a hub with a state directory, and agents that reach it through a
 * relay each (so that their links can be cut); the client's relay too. It restarts what a fault killed, and knows
 * every process it ever started, so that the end can check that none is left.
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

  final Path dir;
  final Path tokenFile;
  final String token;
  final int hubPort;
  final Role hub;
  final List<Role> agents = new ArrayList<>();
  /** One relay per agent, in front of the hub; and the client's. */
  final List<TcpRelay> agentRelays = new ArrayList<>();
  final TcpRelay clientRelay;
  /** Every agent pid ever started, by node: their trees' tags name them. */
  final Map<Long, String> agentNodes = new ConcurrentHashMap<>();
  /** Every pid of a role ever started. */
  final List<Long> rolePids = new java.util.concurrent.CopyOnWriteArrayList<>();

  ChaosCluster(Path dir, int agentCount) throws IOException {
    this.dir = dir;
    byte[] random = new byte[24];
    new SecureRandom().nextBytes(random);
    this.token = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    this.tokenFile = dir.resolve("cluster.token");
    Files.createFile(tokenFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tokenFile, token + "\n");
    try (ServerSocket socket = new ServerSocket(0)) {
      hubPort = socket.getLocalPort();
    }
    hub = new Role("hub", java(HubMain.class.getName(), "--port", String.valueOf(hubPort), "--token-file", tokenFile.toString(),
      "--state-dir", dir.resolve("hub-state").toString(), "--heartbeat-interval", String.valueOf(HEARTBEAT_MS), "--node-timeout",
      String.valueOf(NODE_TIMEOUT_MS), "--client-grace-period", String.valueOf(CLIENT_GRACE_MS), "--http-port", "-1"),
      dir.resolve("hub.out"));
    for (int i = 0; i < agentCount; i++) {
      TcpRelay relay = new TcpRelay("127.0.0.1", hubPort);
      agentRelays.add(relay);
      String node = "chaos-" + i;
      agents.add(new Role(node, java(AgentMain.class.getName(), "--hub", "127.0.0.1:" + relay.port(), "--node-id", node, "--gpus",
        String.valueOf(GPUS_PER_NODE), "--token-file", tokenFile.toString(), "--log-dir", dir.resolve("logs-" + node).toString(),
        "--reconnect-interval", "200", "--stop-timeout", "2000", "--warm-pool", i == 0 ? "1" : "0"), dir.resolve(node + ".out")));
    }
    clientRelay = new TcpRelay("127.0.0.1", hubPort);
  }

  private static List<String> java(String main, String... args) {
    List<String> command = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
      "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dspoke.log.level=info", "-cp", System.getProperty("java.class.path"), main));
    command.addAll(List.of(args));
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
    if (role != hub) {
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

  /** Stops every role (SIGTERM, then SIGKILL after 20 s) and closes the relays. */
  @Override
  public void close() {
    List<Role> roles = new ArrayList<>(agents);
    roles.add(hub);
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
    clientRelay.close();
  }
}
