// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.ActorTypeNotFoundException;
import io.spoke.vertx.DuplicateActorException;
import io.spoke.vertx.FrameTooLargeException;
import io.spoke.vertx.RemoteActorException;
import io.spoke.vertx.SpawnException;
import io.spoke.vertx.SpokeTimeoutException;
import io.spoke.vertx.UnknownMethodException;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.protocol.ProtocolVersion;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Each bad input and failure reaches the caller as a typed exception with a useful message, and nothing else breaks. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class FailuresIT {

  private static final int ACTOR_MAX_FRAME = 1 << 20;

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);
  private SpokeClient client;
  private ActorHandle echo;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    cluster.start(vertx);
    cluster.startAgent(new AgentOptions().setGpus(0).setMaxFrameSize(ACTOR_MAX_FRAME));
    client = cluster.client(new SpokeClientOptions().setCallTimeout(2_000));
    echo = await(client.spawn("Echo", "echo"));
    processes.trackForClass(echo.info().pid());
  }

  @AfterAll
  void stop() throws Exception {
    cluster.close();
  }

  @Test
  void anUnknownMethodListsTheActorsMethods() {
    assertThatThrownBy(() -> await(echo.call(99, Buffer.buffer())))
      .isInstanceOf(UnknownMethodException.class)
      .hasMessageContaining("actor 'echo' (Echo) has no method 99 (0x63)")
      .hasMessageContaining("its methods are method 1 (0x1), method 2 (0x2)");
  }

  @Test
  void aMethodThatThrowsFailsWithTheRemoteClassAndMessage() throws Exception {
    assertThatThrownBy(() -> await(echo.call(TestActors.FAIL, "on purpose", Serializers.STRING, Serializers.STRING)))
      .isInstanceOfSatisfying(RemoteActorException.class, e -> {
        assertThat(e.remoteClass()).isEqualTo("java.lang.IllegalStateException");
        assertThat(e.remoteMessage()).isEqualTo("failing on purpose: on purpose");
      });
    assertThat(await(echo.call(TestActors.HELLO, "again", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, again!");
  }

  @Test
  void anUnknownActorTypeListsTheKnownTypes() {
    assertThatThrownBy(() -> await(client.spawn("NoSuchActor", "nope")))
      .isInstanceOf(ActorTypeNotFoundException.class)
      .hasMessageContaining("unknown actor type 'NoSuchActor'; known types: Echo, ExitsAtStart, FailsToStart, NeverReady");
  }

  @Test
  void aStartHookFailureFailsTheSpawnWithItsMessage() {
    assertThatThrownBy(() -> await(client.spawn("FailsToStart", "fails")))
      .isInstanceOf(SpawnException.class)
      .hasMessageContaining("no model weights at /nowhere");
  }

  @Test
  void aProcessThatExitsWhileStartingFailsTheSpawnWithItsStatusAndLog() {
    assertThatThrownBy(() -> await(client.spawn("ExitsAtStart", "exits")))
      .isInstanceOf(SpawnException.class)
      .hasMessageContaining("actor 'exits' (ExitsAtStart) exited with status 42 before it was ready")
      .hasMessageContaining("about to exit with status 42");
  }

  @Test
  void anActorThatDoesNotBecomeReadyInTimeIsKilledAndTheSpawnFails() {
    long start = System.nanoTime();
    assertThatThrownBy(() -> await(client.spawn("NeverReady", "slowpoke", new SpawnOptions().setTimeout(4_000))))
      .isInstanceOf(SpawnException.class)
      .hasMessageContaining("actor 'slowpoke' (NeverReady) did not become ready within 4000 ms and was killed");
    assertThat((System.nanoTime() - start) / 1_000_000).isBetween(4_000L, 15_000L);
  }

  @Test
  void aTakenIdIsRefused() {
    assertThatThrownBy(() -> await(client.spawn("Echo", "echo")))
      .isInstanceOf(DuplicateActorException.class)
      .hasMessageContaining("actor id 'echo' is taken");
  }

  @Test
  void idsThatWouldEscapeTheLogDirectoryAreRefusedBeforeSending() {
    for (String id : new String[] {"../../etc/cron.d/x", "a/b", "", "-rf", "white space"}) {
      assertThatThrownBy(() -> await(client.spawn("Echo", id))).as(id).isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> await(client.call(id, 1, Buffer.buffer()))).as(id).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void slowCallsTimeOutAndTheActorKeepsServing() throws Exception {
    long start = System.nanoTime();
    assertThatThrownBy(() -> await(echo.call(TestActors.SLOW, 10_000L, Serializers.LONG, Serializers.STRING)))
      .isInstanceOf(SpokeTimeoutException.class);
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
    assertThat(await(echo.call(TestActors.HELLO, "after", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, after!");
  }

  @Test
  void aRequestLargerThanTheActorAcceptsIsRefusedWithoutBeingSent() throws Exception {
    assertThatThrownBy(() -> await(echo.call(TestActors.ECHO, Buffer.buffer(new byte[2 * ACTOR_MAX_FRAME]))))
      .isInstanceOf(FrameTooLargeException.class)
      .hasMessageContaining("exceeds the peer's maximum frame size of " + ACTOR_MAX_FRAME);
    assertThat(await(echo.call(TestActors.ECHO, Buffer.buffer("fine")))).isEqualTo(Buffer.buffer("fine"));
  }

  @Test
  void aResultLargerThanTheClientAcceptsFailsTheCall() throws Exception {
    SpokeClient small = cluster.client(new SpokeClientOptions().setMaxFrameSize(ProtocolVersion.MIN_MAX_FRAME_SIZE));
    Buffer big = TestActors.pattern(2 * ProtocolVersion.MIN_MAX_FRAME_SIZE);
    assertThatThrownBy(() -> await(small.call("echo", TestActors.ECHO, big)))
      .isInstanceOf(FrameTooLargeException.class)
      .hasMessageContaining("the result of method 1 (0x1) of actor 'echo' is too large");
    assertThat(await(small.call("echo", TestActors.ECHO, Buffer.buffer("small")))).isEqualTo(Buffer.buffer("small"));
  }
}
