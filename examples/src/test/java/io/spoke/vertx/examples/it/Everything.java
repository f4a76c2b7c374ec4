// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.it;

import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.protocol.fb.Gpu;
import io.spoke.vertx.service.SpokeService;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.streams.ReadStream;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** A service with every kind of method and every supported type, for the end-to-end test of generated code. */
@SpokeService
public interface Everything {

  static Everything createProxy(SpokeClient client, String actorId) {
    return new EverythingSpokeProxy(client, actorId);
  }

  enum Color { RED, GREEN }

  record Point(int x, int y) {
  }

  record Shape(String name, Color color, List<Point> points, Map<String, Double> attributes, Point center) {
  }

  Future<Integer> ints(int a, Integer b);

  Future<String> primitives(boolean z, byte b, short s, char c, int i, long l, float f, double d);

  Future<String> text(String s);

  Future<byte[]> bytes(byte[] b);

  Future<Buffer> buffer(Buffer b);

  Future<ByteBuffer> nio(ByteBuffer b);

  Future<Gpu> table(Gpu gpu);

  Future<Color> color(Color c);

  Future<List<String>> list(List<String> l);

  Future<Set<Integer>> set(Set<Integer> s);

  Future<Map<String, List<Integer>>> map(Map<String, List<Integer>> m);

  Future<JsonObject> json(JsonObject o, JsonArray a);

  Future<Shape> shape(Shape s);

  Future<Void> nothing();

  void remember(String note);

  Future<List<String>> notes();

  Future<String> fail(String why);

  /** 0 to n - 1; fails at item {@code failAt} when it is not negative. */
  ReadStream<Integer> count(int n, int failAt);

  /** How many items {@link #count} produced so far, and whether its consumer cancelled. */
  Future<String> produced();
}
