// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client.impl;

import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.serialization.Serializer;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.streams.ReadStream;

final class ActorHandleImpl implements ActorHandle {

  private final SpokeClient client;
  private final ActorInfo info;

  ActorHandleImpl(SpokeClient client, ActorInfo info) {
    this.client = client;
    this.info = info;
  }

  @Override
  public String id() {
    return info.id();
  }

  @Override
  public ActorInfo info() {
    return info;
  }

  @Override
  public Future<Buffer> call(int methodId, Buffer request) {
    return client.call(info.id(), methodId, request);
  }

  @Override
  public <Q, R> Future<R> call(int methodId, Q request, Serializer<Q> requestSerializer, Serializer<R> responseSerializer) {
    return client.call(info.id(), methodId, request, requestSerializer, responseSerializer);
  }

  @Override
  public <Q> Future<Void> send(int methodId, Q request, Serializer<Q> requestSerializer) {
    return client.send(info.id(), methodId, request, requestSerializer);
  }

  @Override
  public <Q, T> ReadStream<T> callStream(int methodId, Q request, Serializer<Q> requestSerializer, Serializer<T> itemSerializer) {
    return client.callStream(info.id(), methodId, request, requestSerializer, itemSerializer);
  }

  @Override
  public Future<Void> subscribe(int mailboxId, Handler<Buffer> handler) {
    return client.subscribe(info.id(), mailboxId, handler);
  }

  @Override
  public Future<Void> unsubscribe(int mailboxId) {
    return client.unsubscribe(info.id(), mailboxId);
  }

  @Override
  public Future<Void> initRdma() {
    return client.initRdma(info.id());
  }

  @Override
  public Future<Void> stop() {
    return client.stop(info.id());
  }

  @Override
  public String toString() {
    return "ActorHandle[" + info.id() + "]";
  }
}
