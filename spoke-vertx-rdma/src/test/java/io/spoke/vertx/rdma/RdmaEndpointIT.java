// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.rdma;

import static io.spoke.vertx.test.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.RdmaException;
import io.spoke.vertx.test.ProcessCleanup;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The endpoint API between this JVM and another process over UCX (TCP and shared memory here, no NIC):
 * one-sided get and put on the peer's registered memory, tagged messages both ways, and a peer killed with
 * operations in flight.
 */
@ExtendWith(VertxExtension.class)
class RdmaEndpointIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  /** A started peer process and how to reach its region. */
  private static final class Peer {

    Process process;
    RdmaEndpoint endpoint;
    long regionAddress;
    RdmaEndpoint.RemoteKey key;
  }

  private Peer startPeer(Rdma rdma) throws Exception {
    return startPeer(rdma, List.of());
  }

  /** A peer process started with {@code jvmOptions} (where it progresses UCX: see {@link RdmaPeerMain}). */
  private Peer startPeer(Rdma rdma, List<String> jvmOptions) throws Exception {
    List<String> command = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), RdmaPeerMain.class.getName(),
      HexFormat.of().formatHex(rdma.workerAddress())));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("UCX_LOG_LEVEL", "error");
    Peer peer = new Peer();
    peer.process = processes.track(builder.start());
    BufferedReader out = new BufferedReader(new InputStreamReader(peer.process.getInputStream(), StandardCharsets.UTF_8));
    String line;
    StringBuilder seen = new StringBuilder();
    while ((line = out.readLine()) != null && !line.startsWith("READY ")) {
      seen.append(line).append('\n');
    }
    assertThat(line).as("peer output: " + seen).isNotNull();
    String[] ready = line.split(" ");
    peer.endpoint = await(rdma.connect(HexFormat.of().parseHex(ready[1])));
    peer.regionAddress = Long.parseLong(ready[2]);
    peer.key = await(peer.endpoint.unpackKey(HexFormat.of().parseHex(ready[3])));
    return peer;
  }

  @Test
  void getPutAndTaggedMessagesWithAnotherProcess(Vertx vertx) throws Exception {
    Rdma rdma = await(Rdma.start(vertx));
    long inUseBefore = rdma.memory().inUse();
    Peer peer = startPeer(rdma);

    // get: the peer's region as it filled it, read straight into registered memory here.
    byte[] region = await(peer.endpoint.get(peer.regionAddress, peer.key, RdmaPeerMain.REGION_SIZE, Buffer::getBytes));
    for (int i = 0; i < region.length; i += 4093) {
      assertThat(region[i]).isEqualTo((byte) i);
    }
    // put from a registered buffer (in place) and from a heap buffer (copied once), then read it back.
    Buffer registered = rdma.buffer(1 << 20);
    for (int i = 0; i < 1 << 20; i++) {
      registered.appendByte((byte) 0x5a);
    }
    await(peer.endpoint.put(registered, peer.regionAddress, peer.key));
    await(peer.endpoint.put(Buffer.buffer("heap bytes"), peer.regionAddress + (1 << 20), peer.key));
    await(peer.endpoint.flush());
    byte[] back = await(peer.endpoint.get(peer.regionAddress, peer.key, (1 << 20) + 10, Buffer::getBytes));
    assertThat(back[0]).isEqualTo((byte) 0x5a);
    assertThat(back[(1 << 20) - 1]).isEqualTo((byte) 0x5a);
    assertThat(new String(back, 1 << 20, 10, StandardCharsets.UTF_8)).isEqualTo("heap bytes");
    rdma.release(registered);

    // Tagged messages: the peer echoes tag 1 back as tag 2.
    Random random = new Random(3);
    for (int size : new int[] {1, 64, 100_000, 3 << 20}) {
      byte[] message = new byte[size];
      random.nextBytes(message);
      Future<byte[]> echoed = rdma.receive(2, RdmaPeerMain.REGION_SIZE, Buffer::getBytes);
      await(peer.endpoint.send(1, Buffer.buffer(message)));
      assertThat(await(echoed)).as("echo of %d bytes", size).isEqualTo(message);
    }
    // Messages that arrive before their receive is asked for (UCX keeps them as unexpected messages) keep their
    // length: two sent back to back reach the peer before it asks again, and the echo waits here before being asked.
    byte[] first = "first message".getBytes(StandardCharsets.UTF_8);
    byte[] second = new byte[70_000];
    random.nextBytes(second);
    await(peer.endpoint.send(1, Buffer.buffer(first)));
    await(peer.endpoint.send(1, Buffer.buffer(second)));
    Thread.sleep(300);
    byte[] firstEcho = await(rdma.receive(2, RdmaPeerMain.REGION_SIZE, Buffer::getBytes));
    byte[] secondEcho = await(rdma.receive(2, RdmaPeerMain.REGION_SIZE, Buffer::getBytes));
    assertThat(firstEcho).isEqualTo(first);
    assertThat(secondEcho).isEqualTo(second);
    await(peer.endpoint.close());
    assertThat(rdma.memory().inUse()).as("registered segments still taken").isEqualTo(inUseBefore);
  }

  /**
   * Ten peers in a row, killed with puts (bulk to the peer) and gets (bulk from it) in flight: each progresses UCX in its
   * own way in turn (its epoll event loop, a thread sleeping on the event fd, a thread busy-polling), and every
   * other one is frozen (SIGSTOP) first, so that the sends to it stall half-sent on a full socket buffer.
   */
  @Test
  void aPeerKilledWithOperationsInFlightFailsThemWithTheUcxStatusAndLeaksNothing(Vertx vertx) throws Exception {
    Rdma rdma = await(Rdma.start(vertx));
    long inUseBefore = rdma.memory().inUse();
    List<List<String>> modes = List.of(List.of(), List.of("-Dspoke.rdma.eventLoop=false"), List.of("-Dspoke.rdma.busyPoll=true"));
    Buffer chunk = Buffer.buffer(new byte[RdmaPeerMain.REGION_SIZE]);
    for (int round = 0; round < 10; round++) {
      List<String> mode = modes.get(round % modes.size());
      boolean frozen = round % 2 == 1;
      String what = "peer " + round + " " + mode + (frozen ? ", frozen first" : "");
      Peer peer = startPeer(rdma, mode);
      List<Future<?>> inFlight = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        inFlight.add(peer.endpoint.put(chunk, peer.regionAddress, peer.key));
        inFlight.add(peer.endpoint.get(peer.regionAddress, peer.key, RdmaPeerMain.REGION_SIZE, Buffer::length));
      }
      if (frozen) {
        assertThat(new ProcessBuilder("kill", "-STOP", Long.toString(peer.process.pid())).start().waitFor()).isZero();
        Thread.sleep(300);
      }
      peer.process.destroyForcibly();
      long killedAt = System.nanoTime();
      peer.process.waitFor(10, TimeUnit.SECONDS);
      // Operations keep being issued until the endpoint reports the peer gone: that must come within a second.
      RdmaException failure = null;
      while (failure == null && System.nanoTime() - killedAt < TimeUnit.SECONDS.toNanos(5)) {
        Future<Integer> probe = peer.endpoint.get(peer.regionAddress, peer.key, 64, Buffer::length);
        inFlight.add(probe);
        try {
          probe.await(5, TimeUnit.SECONDS);
        } catch (RdmaException e) {
          failure = e;
        }
      }
      long detectedMs = (System.nanoTime() - killedAt) / 1_000_000;
      assertThat(failure).as("no failure reported after %s died", what).isNotNull();
      assertThat(failure.statusName()).startsWith("UCS_ERR_");
      assertThat(failure.status()).isNegative();
      assertThat(detectedMs).as("ms from SIGKILL of %s to a failed operation", what).isLessThan(1_000);
      for (Future<?> f : inFlight) {
        try {
          f.await(5, TimeUnit.SECONDS);
        } catch (RdmaException expected) {
          // failed, as operations on a dead peer do
        }
      }
      await(peer.endpoint.close());
      System.out.println(what + ": failure reported " + detectedMs + " ms after SIGKILL (" + failure.statusName() + ")");
    }
    assertThat(rdma.memory().inUse()).as("registered segments still taken").isEqualTo(inUseBefore);
  }

}
