// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor;

import io.spoke.vertx.client.Slot;
import io.spoke.vertx.serialization.Serializer;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.util.List;

/**
 * What an actor knows about where it runs, and its way to push messages to clients. Available from
 * {@link Actor#actorContext()} once the actor is deployed; call it on the actor's event loop.
 */
public interface ActorContext {

  /** The id the actor was spawned with. */
  String actorId();

  /** The type name the actor was spawned as. */
  String actorType();

  /** The id of the node (agent) that runs this actor. */
  String nodeId();

  /** The arguments given to {@code spawn}; an empty buffer when none were given. */
  Buffer args();

  /** The physical ids of the GPUs reserved for this actor (what {@code CUDA_VISIBLE_DEVICES} lists). */
  List<Integer> gpuIds();

  /**
   * For an actor launched in a gang's slot: its rank, world size, local rank, master address and port (the
   * same values as its {@code RANK}, {@code WORLD_SIZE}... environment variables). {@code null} for an actor
   * spawned on its own.
   */
  Slot slot();

  /**
   * What Spoke set for this actor, and what its spawn asked for: {@code CUDA_VISIBLE_DEVICES} and the other GPU
   * variables for exactly its GPUs, a gang rank's {@code RANK}, {@code WORLD_SIZE}, {@code MASTER_ADDR}..., and
   * {@code SPOKE_NODE_ID}, {@code SPOKE_ACTOR_TYPE}, {@code SPOKE_ATTEMPT}. The same for an actor started cold and
   * one that took a warm host; but only a cold actor's process environment ({@link System#getenv()}) has them too: a
   * JVM cannot change its environment once started, and a warm host's was set before its actor was known (it sees no
   * GPU). Read them here, and start processes with {@link #processBuilder}.
   */
  java.util.Map<String, String> env();

  /**
   * A {@link ProcessBuilder} for {@code command} whose environment is this process's with {@link #env()} over it: a
   * child sees exactly the actor's GPUs and gang rank, whether the actor is warm or cold.
   */
  default ProcessBuilder processBuilder(String... command) {
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(env());
    return builder;
  }

  /** The Vert.x instance of the actor's host process. */
  Vertx vertx();

  /**
   * Sends {@code data} to every client subscribed to {@code mailbox} of this actor: Spoke's push to client
   * mailboxes. One-way and unacknowledged; a client that is not subscribed does not receive it.
   *
   * @return the number of subscribers it was sent to
   */
  int push(int mailbox, Buffer data);

  /** Like {@link #push(int, Buffer)}, with the value written by {@code serializer} straight into each frame. */
  <T> int push(int mailbox, T value, Serializer<T> serializer);

  /** How many clients are subscribed to {@code mailbox}. */
  int subscribers(int mailbox);
}
