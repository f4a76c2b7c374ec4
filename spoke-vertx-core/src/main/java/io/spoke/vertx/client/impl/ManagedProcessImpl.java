// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client.impl;

import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ManagedProcess;
import io.spoke.vertx.client.SpokeClient;
import io.vertx.core.Future;

/** A launched managed process: its info at ready, its exit as the hub reports it, its stop through the hub. */
final class ManagedProcessImpl implements ManagedProcess {

  private final SpokeClient client;
  private final ActorInfo info;
  private final Future<ActorInfo> exit;

  ManagedProcessImpl(SpokeClient client, ActorInfo info, Future<ActorInfo> exit) {
    this.client = client;
    this.info = info;
    this.exit = exit;
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
  public Future<ActorInfo> exit() {
    return exit;
  }

  @Override
  public Future<ActorInfo> stop() {
    if (exit.isComplete()) {
      return exit;
    }
    return client.stop(info.id()).compose(v -> exit);
  }

  @Override
  public String toString() {
    return "ManagedProcess" + info.toJson().encode();
  }
}
