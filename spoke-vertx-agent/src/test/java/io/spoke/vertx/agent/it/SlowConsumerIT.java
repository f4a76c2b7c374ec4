// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.internal.net.FrameFuzzer;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Call;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.protocol.fb.Subscribe;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A client that sends calls and never reads the answers: the actor host stops reading its requests once the
 * answers queued for it pass the high-water mark, so its memory stays bounded, and it keeps serving others.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class SlowConsumerIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    cluster.start(vertx);
    cluster.startAgent(new AgentOptions().setGpus(0));
  }

  @Test
  void aClientThatStopsReadingIsHeldBackAndTheActorStaysBounded() throws Exception {
    SpokeClient client = cluster.client();
    ActorHandle actor = cluster.spawn(client, "Echo", "echo-to-a-stalled-client");
    Socket stalled = new FrameFuzzer(actor.info().host(), actor.info().port(), TestCluster.TOKEN.getBytes(StandardCharsets.UTF_8), true,
      Role.Client, "stalled", actor.id(), 1).openSocket();
    // 256 KiB echo calls, as fast as the socket takes them, never reading a reply: 2 GiB if nothing held it back.
    byte[] call = FrameFuzzer.frame(Body.Call, Buffer.buffer(new byte[256 * 1024]), b -> Call.createCall(b, TestActors.ECHO, false, 0, 0));
    AtomicLong written = new AtomicLong();
    Thread writer = new Thread(() -> {
      try {
        OutputStream out = stalled.getOutputStream();
        for (int i = 0; i < 8192; i++) {
          out.write(call);
          written.addAndGet(call.length);
        }
      } catch (java.io.IOException e) {
        // the test closed the socket
      }
    }, "stalled-writer");
    writer.setDaemon(true);
    writer.start();

    // The writer stalls: the actor stopped reading once its answers backed up.
    long last = -1;
    for (int i = 0; i < 100 && written.get() != last; i++) {
      last = written.get();
      Thread.sleep(500);
    }
    assertThat(written.get()).as("bytes the stalled client got the actor to take").isEqualTo(last).isLessThan(512L << 20);
    assertThat(writer.isAlive()).isTrue();
    long rssKb = TestCluster.rssKb(actor.info().pid());
    System.out.println("stalled client: " + (written.get() >> 20) + " MB written before it was held back; actor host RSS "
      + (rssKb >> 10) + " MB");
    assertThat(rssKb).as("actor host RSS in KiB").isLessThan(400 * 1024);

    // Everyone else is still served.
    assertThat(await(actor.call(TestActors.HELLO, "others", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, others!");
    stalled.close();
    writer.join(10_000);
    assertThat(await(actor.call(TestActors.HELLO, "after", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, after!");
  }

  @Test
  void aSubscriberThatStopsReadingIsCutOffOnceTooMuchIsQueuedForIt() throws Exception {
    SpokeClient client = cluster.client();
    // A low limit (4 MiB instead of 128 MiB) so that a few hundred thousand pushes reach it.
    ActorHandle actor = cluster.spawn(client, "Echo", "pushes-to-a-stalled-subscriber",
      new io.spoke.vertx.client.SpawnOptions().setJvmOptions(List.of("-Dspoke.slowConsumerBytes=4194304")));
    Socket stalled = new FrameFuzzer(actor.info().host(), actor.info().port(), TestCluster.TOKEN.getBytes(StandardCharsets.UTF_8), true,
      Role.Client, "stalled-subscriber", actor.id(), 1).openSocket();
    stalled.getOutputStream().write(FrameFuzzer.frame(Body.Subscribe, null, b -> Subscribe.createSubscribe(b, 7)));
    // The actor's answer to the Subscribe says the subscription is in place; from here on nothing is read.
    stalled.setSoTimeout(30_000);
    java.io.DataInputStream in = new java.io.DataInputStream(stalled.getInputStream());
    in.readFully(new byte[in.readInt()]);
    // Pushes to mailbox 7 that the subscriber never reads: the actor cuts it off once 4 MiB wait for it.
    long pushed = 0;
    for (int i = 0; i < 10; i++) {
      pushed += await(actor.call(TestActors.PUSH, 100_000, Serializers.INT, Serializers.INT));
    }
    // Reading now drains what was sent before the cut, then the end of the stream: the actor closed it.
    long received = 0;
    byte[] sink = new byte[1 << 16];
    for (int n; (n = stalled.getInputStream().read(sink)) >= 0; ) {
      received += n;
    }
    stalled.close();
    long rssKb = TestCluster.rssKb(actor.info().pid());
    System.out.println("stalled subscriber: " + pushed + " pushes, " + (received >> 10) + " KiB reached it before it was cut off; actor host RSS "
      + (rssKb >> 10) + " MB");
    assertThat(received).as("bytes that reached the stalled subscriber").isLessThan(64L << 20);
    assertThat(Files.readString(Path.of(actor.info().logFile()))).contains("it does not read what it is sent");
    assertThat(rssKb).as("actor host RSS in KiB").isLessThan(400 * 1024);
    assertThat(await(actor.call(TestActors.HELLO, "after", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, after!");
  }
}
