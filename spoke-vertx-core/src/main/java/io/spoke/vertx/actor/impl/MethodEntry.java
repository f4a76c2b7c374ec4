// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor.impl;

import io.spoke.vertx.actor.MethodHandler;
import io.spoke.vertx.serialization.Serializer;
import io.spoke.vertx.service.StreamHandler;

/** One method of an actor's table: its id (and name, when a service registered it), how it runs, and its handler. */
final class MethodEntry {

  enum Kind { CALL, BLOCKING, ONE_WAY, STREAM }

  final int id;
  final String name;
  final Kind kind;
  final MethodHandler handler;
  /** The result's serializer, or the items' for a stream; {@code null}: by the result's runtime class. */
  final Serializer<?> responseSerializer;
  final StreamHandler<?> streamHandler;
  final CallMeter meter = new CallMeter();

  MethodEntry(int id, String name, Kind kind, MethodHandler handler, Serializer<?> responseSerializer, StreamHandler<?> streamHandler) {
    this.id = id;
    this.name = name;
    this.kind = kind;
    this.handler = handler;
    this.responseSerializer = responseSerializer;
    this.streamHandler = streamHandler;
  }

  String describe() {
    return (name != null ? name + " " : "method ") + id + " (0x" + Integer.toHexString(id) + ")";
  }
}
