// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.client.Liveness;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.internal.net.Connection;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import java.util.Map;

/**
 * The start of one actor, as {@link ActorDirectory#startActor} takes it: who asked (a client's spawn, or its launch
 * of a gang rank), the starting actor and its node, and how to start it.
 */
final class ActorLaunch {

  /** The client answered when the actor is listening, or when it did not start; and its request. */
  final Connection client;
  final ClientSession session;
  final long requestId;
  /** The starting actor (its resources already reserved) and the node it starts on. */
  final ActorRecord record;
  final NodeRecord node;
  final Map<String, String> env;
  final List<String> jvmOptions;
  final long timeoutMs;
  /** The constructor's arguments (the frame's payload), or null. */
  final Buffer args;
  /** The gang rank it fills, or null for an ad-hoc actor. */
  final Slot slot;
  /** Runs when the actor did not start. */
  final Runnable onFailure;
  /** A managed process to start instead of a Java actor; null for a Java actor. */
  final ProcessSpec process;
  /** What the agent does when it dies, and how it checks that it lives. */
  final RestartPolicy restart;
  final Liveness liveness;

  ActorLaunch(Connection client, ClientSession session, long requestId, ActorRecord record, NodeRecord node, Map<String, String> env,
              List<String> jvmOptions, long timeoutMs, Buffer args, Slot slot, Runnable onFailure, ProcessSpec process,
              RestartPolicy restart, Liveness liveness) {
    this.client = client;
    this.session = session;
    this.requestId = requestId;
    this.record = record;
    this.node = node;
    this.env = env;
    this.jvmOptions = jvmOptions;
    this.timeoutMs = timeoutMs;
    this.args = args;
    this.slot = slot;
    this.onFailure = onFailure;
    this.process = process;
    this.restart = restart;
    this.liveness = liveness;
  }
}
