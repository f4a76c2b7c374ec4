// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static io.spoke.vertx.test.Await.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.spoke.vertx.ActorDeadException;
import io.spoke.vertx.FrameTooLargeException;
import io.spoke.vertx.RdmaException;
import io.spoke.vertx.RdmaUnavailableException;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.AgentVerticle;
import io.spoke.vertx.test.Await;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.Message;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.RdmaConnect;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.rdma.Rdma;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.SocketAddress;
import io.vertx.junit5.VertxExtension;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The RDMA data plane between this JVM (the client) and real actor processes, over UCX's TCP and shared-memory
 * transports (no RDMA NIC here): byte-exact calls of every size, pushes, a peer killed mid-transfer, and an actor
 * host without UCX.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class RdmaIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);
  private SpokeClient client;
  /** This process's UCX transport (the client's). */
  private Rdma rdma;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    cluster.start(vertx);
    cluster.startAgent(new AgentOptions().setNodeId("ucx").setGpus(0));
    client = cluster.client();
    rdma = await(Rdma.start(vertx));
  }

  @AfterAll
  void stop() throws Exception {
    cluster.close();
  }

  @Test
  void callsOfEverySizeAreByteExactOverTheRdmaPath(Vertx vertx) throws Exception {
    ActorHandle actor = spawnOnEpoll("sizes");
    await(actor.initRdma());
    assertThat(await(client.readLog("sizes", 0, 1 << 20)).data().toString()).contains("on Netty's native (epoll) transport")
      .contains("UCX started").contains("progressed on the event loop");
    // Idempotent once up.
    await(actor.initRdma());
    Random random = new Random(7);
    for (int size : new int[] {0, 1, 64, 4096, 65_535, 65_536, 1 << 20, (1 << 20) + 17}) {
      byte[] bytes = new byte[size];
      random.nextBytes(bytes);
      Buffer echoed = await(actor.call(RdmaTestActor.ECHO, Buffer.buffer(bytes)));
      assertThat(echoed.getBytes()).as("echo of %d bytes", size).isEqualTo(bytes);
      assertThat(await(actor.call(RdmaTestActor.DIGEST, Buffer.buffer(bytes), Serializers.BUFFER, Serializers.STRING)))
        .isEqualTo(RdmaTestActor.digest(ByteBuffer.wrap(bytes)));
    }
    // 64 MiB: more than a TCP connection's default maximum frame (64 MiB including the header), so this only
    // works over the RDMA link, which has no fixed maximum.
    byte[] large = new byte[64 << 20];
    random.nextBytes(large);
    assertThat(await(actor.call(RdmaTestActor.DIGEST, Buffer.buffer(large), Serializers.BUFFER, Serializers.STRING)))
      .isEqualTo(RdmaTestActor.digest(ByteBuffer.wrap(large)));
    Buffer echoed = await(actor.call(RdmaTestActor.ECHO, Buffer.buffer(large)));
    assertThat(echoed.length()).isEqualTo(large.length);
    assertThat(ByteBuffer.wrap(echoed.getBytes())).isEqualTo(ByteBuffer.wrap(large));
    // A payload already in registered memory (Rdma.buffer()) goes out in place: the frame's header travels in the
    // active message's header. The buffer stays the caller's, to fill again once the call completed.
    Buffer registered = rdma.buffer(3 << 20);
    for (int round = 0; round < 2; round++) {
      byte[] fill = new byte[(3 << 20) - round * 1000];
      random.nextBytes(fill);
      registered.setBytes(0, fill);
      Buffer view = registered.slice(0, fill.length);
      assertThat(await(actor.call(RdmaTestActor.DIGEST, view, Serializers.BUFFER, Serializers.STRING)))
        .isEqualTo(RdmaTestActor.digest(ByteBuffer.wrap(fill)));
    }
    rdma.release(registered);
    // Many in flight at once, mixed sizes: each completes once with its own reply.
    List<Future<Buffer>> inFlight = new java.util.ArrayList<>();
    for (int i = 0; i < 512; i++) {
      inFlight.add(actor.call(RdmaTestActor.ECHO, Buffer.buffer().appendInt(i).appendBytes(new byte[i % 7 == 0 ? 100_000 : 60])));
    }
    for (int i = 0; i < inFlight.size(); i++) {
      assertThat(await(inFlight.get(i)).getInt(0)).isEqualTo(i);
    }
    await(actor.stop());
    assertNoRegisteredBufferInUse();
  }

  @Test
  void theSameCallOverTcpIsRefusedAt64MiB() throws Exception {
    ActorHandle actor = spawn("tcp-only", "ucx");
    assertThatThrownBy(() -> await(actor.call(RdmaTestActor.ECHO, Buffer.buffer(new byte[64 << 20]))))
      .isInstanceOf(FrameTooLargeException.class);
    await(actor.stop());
  }

  @Test
  void pushesAndStreamsComeBackOverTheLink() throws Exception {
    ActorHandle actor = spawnOnEpoll("pusher");
    await(actor.initRdma());
    List<Buffer> received = new CopyOnWriteArrayList<>();
    await(actor.subscribe(RdmaTestActor.MAILBOX, data -> received.add(data.copy())));
    int count = await(actor.call(RdmaTestActor.PUSH, Buffer.buffer().appendInt(20).appendInt(200_000), Serializers.BUFFER,
      Serializers.INT));
    // Pushes were sent before the reply, on the same ordered link: all are here when the reply is.
    assertThat(count).isEqualTo(20);
    assertThat(received).hasSize(20);
    for (int i = 0; i < 20; i++) {
      assertThat(received.get(i).length()).isEqualTo(200_000);
      assertThat(received.get(i).getByte(199_999)).isEqualTo((byte) i);
    }
    await(actor.stop());
  }

  @Test
  void aStalledSubscriberOnUcxIsCutOffAndTheActorStaysBounded() throws Exception {
    // The default limit: 64 MiB may wait beyond the link's 64 MiB high-water mark (twice the largest frame waiting,
    // at least 64 MiB; not twice the largest frame an RDMA link allows, 2 GiB).
    ActorHandle actor = spawnOnEpoll("pushes-over-ucx");
    Process subscriber = TestCluster.java(List.of(), RdmaSubscriber.class.getName(), String.valueOf(cluster.hubPort()), actor.id())
      .redirectErrorStream(true).start();
    processes.track(subscriber.pid());
    java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(subscriber.getInputStream()));
    String line;
    while ((line = out.readLine()) != null && !line.equals("READY")) {
      // its log lines
    }
    assertThat(line).as("the subscriber moved to UCX and subscribed").isEqualTo("READY");
    long rssBefore = rssKb(actor.info().pid());
    new ProcessBuilder("kill", "-STOP", Long.toString(subscriber.pid())).start().waitFor();
    try {
      // 384 MiB of pushes to a subscriber that neither reads nor progresses its UCX worker.
      int pushed = 0;
      for (int i = 0; i < 24; i++) {
        pushed += await(actor.call(RdmaTestActor.PUSH, Buffer.buffer().appendInt(256).appendInt(64 << 10), Serializers.BUFFER,
          Serializers.INT));
      }
      long rssAfter = rssKb(actor.info().pid());
      String log = Files.readString(Paths.get(actor.info().logFile()));
      System.out.println("stalled UCX subscriber: " + pushed + " pushes of 64 KiB; actor host RSS " + (rssBefore >> 10) + " -> "
        + (rssAfter >> 10) + " MB");
      assertThat(log).contains("it does not read what it is sent");
      assertThat(rssAfter - rssBefore).as("actor host RSS growth in KiB").isLessThan(256 << 10);
      assertThat(await(actor.call(RdmaTestActor.ECHO, Buffer.buffer("still here"))).toString()).isEqualTo("still here");
    } finally {
      new ProcessBuilder("kill", "-CONT", Long.toString(subscriber.pid())).start().waitFor();
      subscriber.destroyForcibly().waitFor();
      await(actor.stop());
    }
  }

  private static long rssKb(long pid) throws java.io.IOException {
    for (String status : Files.readAllLines(Paths.get("/proc/" + pid + "/status"))) {
      if (status.startsWith("VmRSS:")) {
        return Long.parseLong(status.replaceAll("[^0-9]", ""));
      }
    }
    throw new java.io.IOException("no VmRSS for " + pid);
  }

  @Test
  void aPeerKilledMidTransferFailsCallsWithinASecondAndLeaksNoBuffer() throws Exception {
    killMidTransfer(spawn("victim", "ucx"), "victim");
    killMidTransfer(spawnOnEpoll("epoll-victim"), "epoll-victim");
  }

  private void killMidTransfer(ActorHandle actor, String id) throws Exception {
    await(actor.initRdma());
    long pid = Long.parseLong(await(actor.call(RdmaTestActor.PID, null, Serializers.VOID, Serializers.STRING)));
    Future<Buffer> never = actor.call(RdmaTestActor.NEVER, Buffer.buffer());
    byte[] large = new byte[32 << 20];
    List<Future<Buffer>> transfers = new java.util.ArrayList<>();
    for (int i = 0; i < 6; i++) {
      transfers.add(actor.call(RdmaTestActor.ECHO, Buffer.buffer(large)));
    }
    await(transfers.get(0));
    long killedAt = System.nanoTime();
    new ProcessBuilder("kill", "-KILL", Long.toString(pid)).start().waitFor();
    for (Future<?> f : concat(never, transfers.subList(1, transfers.size()))) {
      Throwable failure = Await.failureOf(f, 5, TimeUnit.SECONDS);
      if (failure != null) {
        assertThat(failure).isInstanceOf(ActorDeadException.class).hasMessageContaining(id);
      }
    }
    assertThat(Await.failureOf(never, 5, TimeUnit.SECONDS)).isInstanceOf(ActorDeadException.class);
    assertThat((System.nanoTime() - killedAt) / 1_000_000).as("ms until every call to %s failed", id).isLessThan(1_000);
    assertNoRegisteredBufferInUse();
  }

  @Test
  void aMalformedWorkerAddressIsRefusedBeforeUcxSeesItAndRdmaCanBeTurnedOff(Vertx vertx) throws Exception {
    ActorHandle actor = spawn("guarded", "ucx");
    // What a confused or hostile client could send: UCX 1.13 aborts the process on many malformed addresses, so the
    // actor host screens them first.
    // Kept in a variable until the end: Vert.x closes a NetClient's connections when the NetClient is collected.
    NetClient netClient = vertx.createNetClient();
    io.vertx.core.Context context = vertx.getOrCreateContext();
    Connection raw = await(Future.<Connection>future(p -> context.runOnContext(v ->
      Connection.connect(netClient, SocketAddress.inetSocketAddress(actor.info().port(), actor.info().host()),
      ClientHello.of(Role.Client, "fuzzer", ClusterAuth.of(TestCluster.TOKEN.getBytes(StandardCharsets.UTF_8))).withTarget("guarded"))
        .onComplete(p))));
    byte[] garbage = new byte[200];
    new Random(11).nextBytes(garbage);
    garbage[0] = (byte) ~rdma.workerAddress()[0];
    Future<Object> refused = Future.<Future<Object>>future(p -> raw.context().runOnContext(v -> {
      Message connect = Message.of(Body.RdmaConnect, b -> RdmaConnect.createRdmaConnect(b, RdmaConnect.createWorkerAddressVector(b, garbage), 42));
      p.complete(raw.request(connect, null, 10_000, "RDMA handshake", frame -> null));
    })).compose(f -> f);
    assertThatThrownBy(() -> await(refused)).isInstanceOf(RdmaException.class).hasMessageContaining("not that of this UCX release");
    assertThat(await(actor.call(RdmaTestActor.DIGEST, Buffer.buffer("alive"), Serializers.BUFFER, Serializers.STRING)))
      .isEqualTo(RdmaTestActor.digest(ByteBuffer.wrap("alive".getBytes())));
    await(netClient.close());
    await(actor.stop());

    ActorHandle off = await(client.spawn("RdmaTestActor", "rdma-off", new io.spoke.vertx.client.SpawnOptions().setNode("ucx")
      .setJvmOptions(List.of("-Dspoke.rdma=false"))));
    processes.track(off.info().pid());
    assertThatThrownBy(() -> await(off.initRdma())).isInstanceOf(RdmaUnavailableException.class).hasMessageContaining("turned off");
    await(off.stop());
  }

  @Test
  void anActorHostWithoutUcxRefusesWithWhatToInstallAndCallsStayOnTcp(Vertx vertx) throws Exception {
    Path wrapper = javaWithoutUcx();
    AgentVerticle agent = cluster.startAgent(new AgentOptions().setNodeId("no-ucx").setGpus(0)
      .setJavaCommand(wrapper.toString()).setActorCds(false));
    ActorHandle actor = spawn("plain", "no-ucx");
    assertThatThrownBy(() -> await(actor.initRdma()))
      .isInstanceOf(RdmaUnavailableException.class)
      .hasMessageContaining("libucx0");
    assertThat(await(actor.call(RdmaTestActor.DIGEST, Buffer.buffer("still here"), Serializers.BUFFER, Serializers.STRING)))
      .isEqualTo(RdmaTestActor.digest(ByteBuffer.wrap("still here".getBytes())));
    await(actor.stop());
    cluster.stopAgent(agent);
  }

  @Test
  void aClientWithoutUcxIsToldWhatToInstallAndCallsOverTcp() throws Exception {
    Path wrapper = javaWithoutUcx();
    ActorHandle actor = spawn("probed", "ucx");
    ProcessBuilder probeCommand = new ProcessBuilder(wrapper.toString(), "-cp", System.getProperty("java.class.path"),
      RdmaClientProbe.class.getName(), String.valueOf(cluster.hubPort()), "probed").redirectErrorStream(true);
    probeCommand.environment().put(io.spoke.vertx.SecurityOptions.ENV_TOKEN, TestCluster.TOKEN);
    Process probe = processes.track(probeCommand.start());
    String output = new String(probe.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(probe.waitFor(120, TimeUnit.SECONDS)).isTrue();
    System.out.println("Client probe output:\n" + output);
    assertThat(output)
      .contains("REFUSED " + RdmaUnavailableException.class.getName() + ": UCX is not installed in this process's environment")
      .contains("apt-get install libucx0")
      .contains("CALLED " + RdmaTestActor.digest(ByteBuffer.wrap("still here".getBytes())));
    await(actor.stop());
  }

  /**
   * A java command whose processes cannot load UCX: run in a mount namespace where libucp.so.0 is /dev/null, as on
   * a machine without libucx0. Needs root (CI runs as root); the test is skipped otherwise.
   */
  private Path javaWithoutUcx() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "hiding libucp needs a mount namespace (root)");
    Path wrapper = cluster.logDir().resolve("java-without-ucx.sh");
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    Files.writeString(wrapper, "#!/bin/sh\n# A JVM whose dynamic loader cannot load UCX: libucp.so.0 is /dev/null here.\n"
      + "exec unshare -m sh -c 'for f in /usr/lib/x86_64-linux-gnu/libucp.so.0 /lib/x86_64-linux-gnu/libucp.so.0; do"
      + " [ -e \"$f\" ] && mount --bind /dev/null \"$f\"; done; exec \"$0\" \"$@\"' " + java + " \"$@\"\n");
    Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwxr-xr-x"));
    return wrapper;
  }

  private ActorHandle spawn(String id, String node) throws Exception {
    return spawn(id, node, List.of());
  }

  /**
   * An actor host on Netty's epoll transport: its UCX worker is progressed on the actor's event loop, not on a
   * progress thread (this JVM, on NIO, keeps the thread): both modes meet in the tests that use it.
   */
  private ActorHandle spawnOnEpoll(String id) throws Exception {
    return spawn(id, "ucx", List.of("-Dspoke.nativeTransport=true"));
  }

  private ActorHandle spawn(String id, String node, List<String> jvmOptions) throws Exception {
    List<String> options = new java.util.ArrayList<>(io.spoke.vertx.agent.AgentOptions.DEFAULT_ACTOR_JVM_OPTIONS);
    options.addAll(jvmOptions);
    ActorHandle actor = await(client.spawn("RdmaTestActor", id, new io.spoke.vertx.client.SpawnOptions().setNode(node)
      .setJvmOptions(options)));
    processes.track(actor.info().pid());
    return actor;
  }

  private void assertNoRegisteredBufferInUse() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (rdma.memory().inUse() != 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(rdma.memory().inUse()).as("registered segments still taken").isZero();
  }

  private static List<Future<?>> concat(Future<?> first, List<? extends Future<?>> rest) {
    List<Future<?>> all = new java.util.ArrayList<>();
    all.add(first);
    all.addAll(rest);
    return all;
  }
}
