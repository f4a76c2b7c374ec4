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
