// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import io.spoke.vertx.serialization.Serializer;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

/**
 * A reference to one running actor, as returned by {@link SpokeClient#spawn} and {@link SpokeClient#actor}:
 * a shorthand for the client's methods that take an actor id. Cheap; holds no connection of its own.
 */
public interface ActorHandle {

  /** The actor's id. */
  String id();

  /** What the hub said of the actor when this handle was made. */
  ActorInfo info();

  /** @see SpokeClient#call(String, int, Buffer) */
  Future<Buffer> call(int methodId, Buffer request);

  /** @see SpokeClient#call(String, int, Object, Serializer, Serializer) */
  <Q, R> Future<R> call(int methodId, Q request, Serializer<Q> requestSerializer, Serializer<R> responseSerializer);

  /** @see SpokeClient#send(String, int, Object, Serializer) */
  <Q> Future<Void> send(int methodId, Q request, Serializer<Q> requestSerializer);

  /** @see SpokeClient#callStream(String, int, Object, Serializer, Serializer) */
  <Q, T> ReadStream<T> callStream(int methodId, Q request, Serializer<Q> requestSerializer, Serializer<T> itemSerializer);

  /** @see SpokeClient#subscribe(String, int, Handler) */
  Future<Void> subscribe(int mailboxId, Handler<Buffer> handler);

  /** @see SpokeClient#unsubscribe(String, int) */
  Future<Void> unsubscribe(int mailboxId);

  /** @see SpokeClient#stop(String) */
  Future<Void> stop();

  /** Moves calls to this actor onto RDMA: {@link SpokeClient#initRdma(String)}. */
  Future<Void> initRdma();
}
