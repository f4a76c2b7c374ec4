// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.test;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * A real etcd cluster of {@code n} members on loopback ports (Debian's {@code etcd-server}), each a process whose pid
 * the caller is told (to clean it up), its data in a directory of its own. {@link #start} returns once every member
 * answers {@code etcdctl endpoint health}. Members can be killed and started again, as a fault.
 */
public final class EtcdCluster implements AutoCloseable {

  private final LongConsumer processes;
  private final Path dir;
  private final int[] clientPorts;
  private final int[] peerPorts;
  private final Process[] members;

  private EtcdCluster(LongConsumer processes, Path dir, int n) {
    this.processes = processes;
    this.dir = dir;
    this.clientPorts = new int[n];
    this.peerPorts = new int[n];
    this.members = new Process[n];
  }

  /** Whether this machine has etcd (the tests that need it say so instead of passing without it). */
  public static boolean available() {
    return new File("/usr/bin/etcd").canExecute() && new File("/usr/bin/etcdctl").canExecute();
  }

  /** @param processes told each member's pid as it starts ({@code ProcessCleanup::track} in a test) */
  public static EtcdCluster start(LongConsumer processes, Path dir, int n) throws Exception {
    EtcdCluster cluster = new EtcdCluster(processes, dir, n);
    for (int i = 0; i < n; i++) {
      cluster.clientPorts[i] = freePort();
      cluster.peerPorts[i] = freePort();
    }
    for (int i = 0; i < n; i++) {
      cluster.startMember(i, "new");
    }
    cluster.awaitHealthy(List.of(cluster.endpoints().split(",")), 60_000);
    return cluster;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private String name(int i) {
    return "m" + i;
  }

  private String initialCluster() {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < peerPorts.length; i++) {
      text.append(i == 0 ? "" : ",").append(name(i)).append("=http://127.0.0.1:").append(peerPorts[i]);
    }
    return text.toString();
  }

  private void startMember(int i, String state) throws IOException {
    Path data = dir.resolve(name(i) + ".etcd");
    List<String> command = new ArrayList<>(List.of("/usr/bin/etcd", "--name", name(i), "--data-dir", data.toString(),
      "--listen-client-urls", "http://127.0.0.1:" + clientPorts[i], "--advertise-client-urls", "http://127.0.0.1:" + clientPorts[i],
      "--listen-peer-urls", "http://127.0.0.1:" + peerPorts[i], "--initial-advertise-peer-urls", "http://127.0.0.1:" + peerPorts[i],
      "--initial-cluster", initialCluster(), "--initial-cluster-state", state, "--initial-cluster-token", "spoke-test-" + dir.getFileName(),
      "--heartbeat-interval", "100", "--election-timeout", "1000"));
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
      .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(name(i) + ".log").toFile()))
      .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    processes.accept(process.pid());
    members[i] = process;
  }

  /** {@code http://127.0.0.1:P1,http://127.0.0.1:P2,...}: what {@code --etcd} takes. */
  public String endpoints() {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < clientPorts.length; i++) {
      text.append(i == 0 ? "" : ",").append(endpoint(i));
    }
    return text.toString();
  }

  public String endpoint(int i) {
    return "http://127.0.0.1:" + clientPorts[i];
  }

  public Process member(int i) {
    return members[i];
  }

  /** SIGKILLs member {@code i} and waits for its end. */
  public void kill(int i) throws InterruptedException {
    members[i].destroyForcibly();
    members[i].waitFor(10, TimeUnit.SECONDS);
  }

  /** Starts member {@code i} again on its data (after {@link #kill}), and waits until it answers. */
  public void restart(int i) throws Exception {
    startMember(i, "existing");
    awaitHealthy(List.of(endpoint(i)), 60_000);
  }

  /** etcdctl's output for {@code args} against the whole cluster; fails on a non-zero exit. */
  public String etcdctl(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("/usr/bin/etcdctl", "--endpoints", endpoints(), "--command-timeout=5s"));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("ETCDCTL_API", "3");
    Process process = builder.start();
    String out = new String(process.getInputStream().readAllBytes());
    if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IllegalStateException("etcdctl " + String.join(" ", args) + " failed: " + out);
    }
    return out;
  }

  private void awaitHealthy(List<String> endpoints, long timeoutMs) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    String last = "";
    while (System.nanoTime() < deadline) {
      ProcessBuilder builder = new ProcessBuilder("/usr/bin/etcdctl", "--endpoints", String.join(",", endpoints), "--command-timeout=2s",
        "endpoint", "health").redirectErrorStream(true);
      builder.environment().put("ETCDCTL_API", "3");
      Process process = builder.start();
      last = new String(process.getInputStream().readAllBytes());
      if (process.waitFor(10, TimeUnit.SECONDS) && process.exitValue() == 0) {
        return;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("etcd did not become healthy within " + timeoutMs + " ms: " + last + "; logs in " + dir);
  }

  @Override
  public void close() {
    for (Process member : members) {
      if (member != null && member.isAlive()) {
        member.destroyForcibly();
      }
    }
  }

  /** The member logs' directory. */
  public Path dir() {
    return dir;
  }

  /** Creates a directory for a cluster's members under the system's temporary directory. */
  public static Path newDir(String name) throws IOException {
    return Files.createTempDirectory(name);
  }
}
