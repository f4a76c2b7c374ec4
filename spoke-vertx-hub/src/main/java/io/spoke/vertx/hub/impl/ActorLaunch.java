package io.spoke.vertx.hub.impl;

import io.spoke.vertx.client.Slot;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import java.util.Map;

/** How to start an actor, besides where: what a client's spawn, or its launch of a gang rank, asked for. */
final class ActorLaunch {

  final Map<String, String> env;
  final List<String> jvmOptions;
  final long timeoutMs;
  /** The constructor's arguments (the frame's payload), or null. */
  final Buffer args;
  /** The gang rank it fills, or null for an ad-hoc actor. */
  final Slot slot;
  /** Runs when the actor did not start. */
  final Runnable onFailure;

  ActorLaunch(Map<String, String> env, List<String> jvmOptions, long timeoutMs, Buffer args, Slot slot, Runnable onFailure) {
    this.env = env;
    this.jvmOptions = jvmOptions;
    this.timeoutMs = timeoutMs;
    this.args = args;
    this.slot = slot;
    this.onFailure = onFailure;
  }
}
