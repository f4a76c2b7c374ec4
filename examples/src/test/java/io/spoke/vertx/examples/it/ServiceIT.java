// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.it;

import static io.spoke.vertx.test.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.flatbuffers.FlatBufferBuilder;
import io.spoke.vertx.RemoteActorException;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.protocol.fb.Gpu;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.Await;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import io.vertx.junit5.VertxExtension;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Generated proxies calling a generated dispatcher in a real actor process, for every supported type, every
 * kind of method, failures, and streams with back-pressure.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class ServiceIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);
  private SpokeClient client;
  private Everything everything;

  @BeforeAll
  void start(Vertx vertx) throws Exception {
    cluster.start(vertx);
    cluster.startAgent(new AgentOptions().setGpus(0));
    client = cluster.client(new SpokeClientOptions().setStreamWindow(8));
    ActorHandle actor = await(client.spawn("Everything", "everything"));
    processes.trackForClass(actor.info().pid());
    everything = Everything.createProxy(client, "everything");
  }

  @AfterAll
  void stop() throws Exception {
    cluster.close();
  }

  @Test
  void primitivesAndBoxesIncludingNull() throws Exception {
    assertThat(await(everything.ints(2, 40))).isEqualTo(42);
    assertThat(await(everything.ints(2, null))).isNull();
    assertThat(await(everything.primitives(true, (byte) -1, (short) 300, 'Ж', -7, Long.MAX_VALUE, 1.5f, Math.E)))
      .isEqualTo("true -1 300 Ж -7 " + Long.MAX_VALUE + " 1.5 " + Math.E);
  }

  @Test
  void textAndBytes() throws Exception {
    assertThat(await(everything.text("héllo ✓"))).isEqualTo("héllo ✓");
    assertThat(await(everything.text(""))).isEmpty();
    assertThat(await(everything.text(null))).isNull();
    assertThat(await(everything.bytes(new byte[] {1, 2, 3}))).containsExactly(1, 2, 3);
    assertThat(await(everything.bytes(null))).isNull();
  }

  @Test
  void buffersAreReadInPlaceAndLargeOnesSurvive() throws Exception {
    byte[] bytes = new byte[1 << 20];
    new java.util.Random(7).nextBytes(bytes);
    assertThat(await(everything.buffer(Buffer.buffer(bytes)))).isEqualTo(Buffer.buffer(bytes));
    ByteBuffer nio = await(everything.nio(ByteBuffer.wrap(new byte[] {9, 8, 7})));
    assertThat(nio.remaining()).isEqualTo(3);
    assertThat(nio.get(0)).isEqualTo((byte) 9);
  }

  @Test
  void flatBuffersTablesEnumsAndJson() throws Exception {
    FlatBufferBuilder b = new FlatBufferBuilder();
    b.finish(Gpu.createGpu(b, 5, b.createString("GPU-x"), b.createString("H100"), 81559));
    Gpu gpu = await(everything.table(Gpu.getRootAsGpu(b.dataBuffer())));
    assertThat(gpu.index()).isEqualTo(5);
    assertThat(gpu.name()).isEqualTo("H100");
    assertThat(await(everything.color(Everything.Color.GREEN))).isEqualTo(Everything.Color.GREEN);
    assertThat(await(everything.json(new JsonObject().put("a", 1), new JsonArray().add("x"))))
      .isEqualTo(new JsonObject().put("a", 1).put("array", new JsonArray().add("x")));
  }

  @Test
  void collectionsAndRecords() throws Exception {
    assertThat(await(everything.list(List.of("a", "b")))).containsExactly("a", "b");
    assertThat(await(everything.list(null))).isNull();
    assertThat(await(everything.set(new LinkedHashSet<>(List.of(3, 1, 2))))).containsExactly(3, 1, 2);
    Map<String, List<Integer>> map = new LinkedHashMap<>();
    map.put("x", List.of(1, 2));
    map.put("y", Arrays.asList(3, null));
    map.put("z", null);
    assertThat(await(everything.map(map))).isEqualTo(map);
    Map<String, Double> attributes = new LinkedHashMap<>();
    attributes.put("weight", 0.5);
    Everything.Shape shape = new Everything.Shape("tri", Everything.Color.RED, List.of(new Everything.Point(0, 0),
      new Everything.Point(3, 4)), attributes, null);
    assertThat(await(everything.shape(shape))).isEqualTo(shape);
    assertThat(await(everything.shape(null))).isNull();
  }

  @Test
  void oneWayCallsRunInOrderWithoutReply() throws Exception {
    everything.remember("first");
    everything.remember("second");
    assertThat(await(everything.nothing())).isNull();
    assertThat(await(everything.notes())).containsSubsequence("first", "second");
  }

  @Test
  void anExceptionInTheActorFailsTheCallWithItsClassAndMessage() {
    assertThatThrownBy(() -> await(everything.fail("no weights")))
      .isInstanceOfSatisfying(RemoteActorException.class, e -> {
        assertThat(e.remoteClass()).isEqualTo("java.lang.IllegalStateException");
        assertThat(e.remoteMessage()).isEqualTo("no weights");
      });
  }

  /** Reads a whole stream; completes with its items, or fails with its failure. */
  private static <T> Future<List<T>> collect(ReadStream<T> stream) {
    Promise<List<T>> done = Promise.promise();
    List<T> items = new ArrayList<>();
    stream.handler(items::add).exceptionHandler(done::tryFail).endHandler(v -> done.tryComplete(items));
    return done.future();
  }

  @Test
  void aStreamDeliversEveryItemInOrder() throws Exception {
    List<Integer> items = await(collect(everything.count(5_000, -1)));
    assertThat(items).hasSize(5_000);
    for (int i = 0; i < items.size(); i++) {
      assertThat(items.get(i)).isEqualTo(i);
    }
  }

  @Test
  void aPausedStreamStopsTheActorFromProducing() throws Exception {
    int total = 100_000;
    List<Integer> items = new CopyOnWriteArrayList<>();
    Promise<Void> ended = Promise.promise();
    ReadStream<Integer> stream = everything.count(total, -1);
    stream.handler(item -> {
      items.add(item);
      if (items.size() == 5) {
        stream.pause();
      }
    }).endHandler(ended::tryComplete).exceptionHandler(ended::tryFail);
    Await.until("five items before the pause", () -> items.size() >= 5);
    // Time for items beyond the window to arrive, were the window not kept.
    Thread.sleep(300);
    int produced = Integer.parseInt(await(everything.produced()).split(" ")[0]);
    // At most: what the client took, its window of 8, and the 4 the actor's source may queue ahead.
    assertThat(produced).as("items produced while the client paused").isLessThanOrEqualTo(5 + 8 + 4 + 1);
    assertThat(items).hasSize(5);

    stream.resume();
    await(ended.future());
    assertThat(items).hasSize(total);
    assertThat(items.get(total - 1)).isEqualTo(total - 1);
  }

  @Test
  void aStreamThatFailsFailsTheReaderAfterTheItemsBefore() throws Exception {
    List<Integer> items = new CopyOnWriteArrayList<>();
    Promise<Void> done = Promise.promise();
    everything.count(10, 6).handler(items::add).exceptionHandler(done::tryFail).endHandler(done::tryComplete);
    assertThatThrownBy(() -> await(done.future())).isInstanceOfSatisfying(RemoteActorException.class,
      e -> assertThat(e.remoteMessage()).isEqualTo("failing at 6"));
    assertThat(items).containsExactly(0, 1, 2, 3, 4, 5);
  }

  @Test
  void removingTheHandlerCancelsTheStreamInTheActor() throws Exception {
    List<Integer> items = new CopyOnWriteArrayList<>();
    ReadStream<Integer> stream = everything.count(1_000_000, -1);
    stream.handler(item -> {
      items.add(item);
      if (items.size() == 3) {
        stream.handler(null);
      }
    });
    Await.until("the actor cancelled the stream", () -> await(everything.produced()).endsWith("cancelled"));
    assertThat(Integer.parseInt(await(everything.produced()).split(" ")[0])).isLessThan(100);
    // Time for items after the cancel to arrive, were it not kept.
    Thread.sleep(100);
    assertThat(items).hasSize(3);
  }
}
