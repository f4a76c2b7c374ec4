// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.it;

import io.spoke.vertx.actor.Actor;
import io.spoke.vertx.actor.SpokeActor;
import io.spoke.vertx.protocol.fb.Gpu;
import io.spoke.vertx.service.StreamSource;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Implements {@link Everything}; registered through the generated dispatcher and the generated actor index. */
@SpokeActor("Everything")
public class EverythingActor extends Actor implements Everything {

  private final List<String> notes = new ArrayList<>();
  private int produced;
  private StreamSource<Integer> lastStream;

  @Override
  public Future<Integer> ints(int a, Integer b) {
    return Future.succeededFuture(b == null ? null : a + b);
  }

  @Override
  public Future<String> primitives(boolean z, byte b, short s, char c, int i, long l, float f, double d) {
    return Future.succeededFuture(z + " " + b + " " + s + " " + c + " " + i + " " + l + " " + f + " " + d);
  }

  @Override
  public Future<String> text(String s) {
    return Future.succeededFuture(s);
  }

  @Override
  public Future<byte[]> bytes(byte[] b) {
    return Future.succeededFuture(b);
  }

  @Override
  public Future<Buffer> buffer(Buffer b) {
    return Future.succeededFuture(b);
  }

  @Override
  public Future<ByteBuffer> nio(ByteBuffer b) {
    return Future.succeededFuture(b);
  }

  @Override
  public Future<Gpu> table(Gpu gpu) {
    return Future.succeededFuture(gpu);
  }

  @Override
  public Future<Color> color(Color c) {
    return Future.succeededFuture(c);
  }

  @Override
  public Future<List<String>> list(List<String> l) {
    return Future.succeededFuture(l);
  }

  @Override
  public Future<Set<Integer>> set(Set<Integer> s) {
    return Future.succeededFuture(s);
  }

  @Override
  public Future<Map<String, List<Integer>>> map(Map<String, List<Integer>> m) {
    return Future.succeededFuture(m);
  }

  @Override
  public Future<JsonObject> json(JsonObject o, JsonArray a) {
    return Future.succeededFuture(o.copy().put("array", a));
  }

  @Override
  public Future<Shape> shape(Shape s) {
    return Future.succeededFuture(s);
  }

  @Override
  public Future<Void> nothing() {
    return Future.succeededFuture();
  }

  @Override
  public void remember(String note) {
    notes.add(note);
  }

  @Override
  public Future<List<String>> notes() {
    return Future.succeededFuture(List.copyOf(notes));
  }

  @Override
  public Future<String> fail(String why) {
    throw new IllegalStateException(why);
  }

  @Override
  public ReadStream<Integer> count(int n, int failAt) {
    StreamSource<Integer> items = StreamSource.create(4);
    lastStream = items;
    produced = 0;
    Runnable produce = new Runnable() {
      @Override
      public void run() {
        while (produced < n && !items.isCancelled()) {
          if (produced == failAt) {
            items.fail(new IllegalArgumentException("failing at " + failAt));
            return;
          }
          if (!items.write(produced++)) {
            items.drainHandler(v -> run());
            return;
          }
        }
        items.end();
      }
    };
    produce.run();
    return items;
  }

  @Override
  public Future<String> produced() {
    return Future.succeededFuture(produced + (lastStream != null && lastStream.isCancelled() ? " cancelled" : ""));
  }
}
