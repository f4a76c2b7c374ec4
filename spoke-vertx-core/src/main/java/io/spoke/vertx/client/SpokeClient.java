package io.spoke.vertx.client;

import io.spoke.vertx.client.impl.SpokeClientImpl;
import io.spoke.vertx.serialization.Serializer;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;

/**
 * The entry point of applications: spawns, calls and stops actors on a Spoke cluster. Spoke's
 * {@code spoke::Client}, with every operation returning a Vert.x {@link Future} and nothing that blocks.
 * <p>
 * Control operations (spawn, stop, resolve, status) go to the hub over one persistent connection. Calls do
 * not: the client resolves an actor's endpoint once and then talks to the actor's process directly, over
 * one multiplexed connection per actor, so neither the hub nor the agent is on the call path.
 * <p>
 * Threading: the client's state lives on one Vert.x context, the caller's when the client is created on a
 * Vert.x thread (inside a verticle), a new event-loop context otherwise. Methods may be called from any
 * thread; futures complete on that context.
 * <p>
 * Failures: every future fails with a {@link io.spoke.vertx.SpokeException} subclass that says what
 * happened ({@link io.spoke.vertx.ActorDeadException}, {@link io.spoke.vertx.RemoteActorException},
 * {@link io.spoke.vertx.SpokeTimeoutException}, ...); argument errors fail with
 * {@link IllegalArgumentException} before anything is sent. Nothing waits forever: every remote operation
 * has a timeout.
 */
public interface SpokeClient {

  /**
   * A client on an existing Vert.x instance (the application's). Nothing is connected until first use.
   */
  static SpokeClient create(Vertx vertx, SpokeClientOptions options) {
    return new SpokeClientImpl(vertx, options, false);
  }

  /** A standalone client with a Vert.x instance of its own, closed by {@link #close()}. */
  static SpokeClient create(SpokeClientOptions options) {
    return new SpokeClientImpl(Vertx.vertx(), options, true);
  }

  /** Spawns an actor with default options: the hub picks the node. */
  default Future<ActorHandle> spawn(String actorType, String actorId) {
    return spawn(actorType, actorId, new SpawnOptions());
  }

  /**
   * Starts actor {@code actorId} of type {@code actorType} in a new process on a node. Completes when the
   * actor is constructed, started and listening, so the handle is callable at once (Spoke's synchronous
   * spawn with acknowledgement).
   * <p>
   * Fails with {@link io.spoke.vertx.DuplicateActorException} if the id is taken,
   * {@link io.spoke.vertx.ActorTypeNotFoundException} (listing known types) for an unknown type,
   * {@link io.spoke.vertx.SchedulingException} when no node has the resources,
   * {@link io.spoke.vertx.NodeUnavailableException} for an unknown or dead node, and
   * {@link io.spoke.vertx.SpawnException} with the exit status and the end of the actor's log when its
   * process dies or does not come up within the timeout.
   */
  Future<ActorHandle> spawn(String actorType, String actorId, SpawnOptions options);

  /** A handle to an existing actor; fails with {@link io.spoke.vertx.ActorNotFoundException} if there is none. */
  Future<ActorHandle> actor(String actorId);

  /**
   * Calls method {@code methodId} of an actor with raw bytes, and completes with the raw reply (a heap
   * buffer the caller owns). Large heap buffers are sent without a copy: do not modify {@code request}
   * until the future completes.
   */
  Future<Buffer> call(String actorId, int methodId, Buffer request);

  /**
   * Calls method {@code methodId} of an actor: the request is written by {@code requestSerializer} straight
   * into the frame that goes to the actor's socket, the reply read by {@code responseSerializer}.
   * <p>
   * Fails with {@link io.spoke.vertx.RemoteActorException} if the method threw,
   * {@link io.spoke.vertx.UnknownMethodException} if the actor has no such method,
   * {@link io.spoke.vertx.ActorDeadException} (exit status and log file) if the actor's process is gone,
   * including while the call is in flight, {@link io.spoke.vertx.ActorNotFoundException} for an unknown
   * id, and {@link io.spoke.vertx.SpokeTimeoutException} after the call timeout.
   */
  <Q, R> Future<R> call(String actorId, int methodId, Q request, Serializer<Q> requestSerializer, Serializer<R> responseSerializer);

  /**
   * Stops an actor: a graceful stop (its {@code onStop}), then SIGKILL of its process group after the
   * agent's stop timeout. Completes when the process has exited; its id is free again from then on.
   */
  Future<Void> stop(String actorId);

  /**
   * Receives what the actor pushes to {@code mailboxId} (Spoke's client mailboxes). The handler runs on the
   * client's context; the buffer it gets is a view valid only during the handler (copy to keep it).
   * The subscription ends with the connection to the actor (when it stops or dies).
   */
  Future<Void> subscribe(String actorId, int mailboxId, Handler<Buffer> handler);

  /** Ends a subscription. */
  Future<Void> unsubscribe(String actorId, int mailboxId);

  /** What the hub knows of an actor, including recently exited ones (state {@link ActorState#EXITED}). */
  Future<ActorInfo> resolve(String actorId);

  /** The cluster's nodes, their free resources, and its actors. */
  Future<ClusterStatus> status();

  /**
   * Closes every connection (calls in flight fail) and, for a standalone client, its Vert.x instance.
   * Actors keep running.
   */
  Future<Void> close();
}
