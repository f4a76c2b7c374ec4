// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.test;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * A real etcd cluster of {@code n} members on loopback ports (Debian's {@code etcd-server}), each a process whose pid
 * the caller is told (to clean it up), its data in a directory of its own. {@link #start} returns once every member
 * answers {@code etcdctl endpoint health}. Members can be killed and started again, as a fault. A member may also
 * listen on another address and run through a launcher ({@link Member}: {@code ip netns exec HOST}, a "host" of its own).
 */
public final class EtcdCluster implements AutoCloseable {

  private final LongConsumer processes;
  private final Path dir;
  private final int[] clientPorts;
  private final int[] peerPorts;
  private final Process[] members;
  private final List<Member> placement;
  /** With TLS: the certificates, its clients' {@code https://} and etcdctl's flags; null: plain HTTP. */
  private Tls tls;
  private final List<String> ctlFlags = new ArrayList<>();

  /** Where a member listens ({@code host}: its client and peer address) and what it runs under ({@code launcher}, or none). */
  public record Member(String host, List<String> launcher) {

    public static Member local() {
      return new Member("127.0.0.1", List.of());
    }
  }

  /** A CA, etcd's server certificate (for 127.0.0.1) and a client certificate, PEM files made with openssl. */
  public record Tls(Path ca, Path serverCert, Path serverKey, Path clientCert, Path clientKey) {

    /** Makes them in {@code dir}. */
    public static Tls make(Path dir) throws Exception {
      Files.writeString(dir.resolve("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
      openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj",
        "/CN=spoke-test-ca");
      for (String who : new String[] {"server", "client"}) {
        openssl(dir, "req", "-newkey", "rsa:2048", "-nodes", "-keyout", who + ".key", "-out", who + ".csr", "-subj",
          "/CN=" + (who.equals("server") ? "etcd" : "spoke-test-client"));
        openssl(dir, "x509", "-req", "-in", who + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", who + ".pem",
          "-days", "2", "-extfile", "san.ext");
      }
      return new Tls(dir.resolve("ca.pem"), dir.resolve("server.pem"), dir.resolve("server.key"), dir.resolve("client.pem"),
        dir.resolve("client.key"));
    }

    private static void openssl(Path dir, String... args) throws Exception {
      List<String> command = new ArrayList<>(List.of("openssl"));
      command.addAll(List.of(args));
      Process process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
      String out = new String(process.getInputStream().readAllBytes());
      if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
        throw new IllegalStateException("openssl " + String.join(" ", args) + " failed: " + out);
      }
    }
  }

  private EtcdCluster(LongConsumer processes, Path dir, List<Member> placement) {
    this.processes = processes;
    this.dir = dir;
    this.placement = List.copyOf(placement);
    int n = placement.size();
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
    return start(processes, dir, n, null);
  }

  /**
   * As {@link #start(LongConsumer, Path, int)}, with {@code tls}: clients on {@code https://} only, with a certificate
   * of the CA ({@code --client-cert-auth}).
   */
  public static EtcdCluster start(LongConsumer processes, Path dir, int n, Tls tls) throws Exception {
    return start(processes, dir, Collections.nCopies(n, Member.local()), tls);
  }

  /** A member per {@code placement} entry, each on its address, through its launcher. TLS only on loopback (the certificate's name). */
  public static EtcdCluster start(LongConsumer processes, Path dir, List<Member> placement, Tls tls) throws Exception {
    int n = placement.size();
    EtcdCluster cluster = new EtcdCluster(processes, dir, placement);
    cluster.tls = tls;
    if (tls != null) {
      cluster.ctlFlags.addAll(List.of("--cacert", tls.ca().toString(), "--cert", tls.clientCert().toString(), "--key",
        tls.clientKey().toString()));
    }
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
      text.append(i == 0 ? "" : ",").append(name(i)).append("=").append(peer(i));
    }
    return text.toString();
  }

  private String peer(int i) {
    return "http://" + placement.get(i).host() + ":" + peerPorts[i];
  }

  private void startMember(int i, String state) throws IOException {
    Path data = dir.resolve(name(i) + ".etcd");
    List<String> command = new ArrayList<>(placement.get(i).launcher());
    command.addAll(List.of("/usr/bin/etcd", "--name", name(i), "--data-dir", data.toString(),
      "--listen-client-urls", endpoint(i), "--advertise-client-urls", endpoint(i),
      "--listen-peer-urls", peer(i), "--initial-advertise-peer-urls", peer(i),
      "--initial-cluster", initialCluster(), "--initial-cluster-state", state, "--initial-cluster-token", "spoke-test-" + dir.getFileName(),
      "--heartbeat-interval", "100", "--election-timeout", "1000"));
    if (tls != null) {
      command.addAll(List.of("--cert-file", tls.serverCert().toString(), "--key-file", tls.serverKey().toString(), "--trusted-ca-file",
        tls.ca().toString(), "--client-cert-auth"));
    }
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
      .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve(name(i) + ".log").toFile()))
      .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    processes.accept(process.pid());
    members[i] = process;
  }

  /** {@code http://HOST1:P1,http://HOST2:P2,...}: what {@code --etcd} takes. */
  public String endpoints() {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < clientPorts.length; i++) {
      text.append(i == 0 ? "" : ",").append(endpoint(i));
    }
    return text.toString();
  }

  public String endpoint(int i) {
    return (tls != null ? "https" : "http") + "://" + placement.get(i).host() + ":" + clientPorts[i];
  }

  /** Flags every later etcdctl call gets (a user, say, once authentication is on). */
  public void etcdctlFlags(String... flags) {
    ctlFlags.addAll(List.of(flags));
  }

  /** How many members it has. */
  public int size() {
    return members.length;
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
    command.addAll(ctlFlags);
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
      List<String> command = new ArrayList<>(List.of("/usr/bin/etcdctl", "--endpoints", String.join(",", endpoints),
        "--command-timeout=2s"));
      command.addAll(ctlFlags);
      command.addAll(List.of("endpoint", "health"));
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
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
