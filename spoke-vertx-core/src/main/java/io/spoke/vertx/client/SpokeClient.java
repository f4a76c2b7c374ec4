// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import io.spoke.vertx.client.impl.SpokeClientImpl;
import io.spoke.vertx.serialization.Serializer;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.streams.ReadStream;

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
   * Calls a method without a reply (fire and forget): completes once the request is written to the actor's
   * socket. Whatever the method then does, failure included, is not reported back.
   */
  <Q> Future<Void> send(String actorId, int methodId, Q request, Serializer<Q> requestSerializer);

  /**
   * Calls a method whose result is a stream of items (the tokens of an LLM reply, say), delivered as they
   * come to the returned stream's handler on the client's context, with back-pressure: the actor produces
   * only as far ahead as {@code streamWindow} items not yet consumed. {@code pause()} the stream and the
   * actor's stream pauses; removing the handler cancels it. The stream ends with the actor's stream, fails
   * with its failure (or with {@link io.spoke.vertx.ActorDeadException} if the actor dies), and fails with
   * {@link io.spoke.vertx.SpokeTimeoutException} when no item arrives for the call timeout.
   */
  <Q, T> ReadStream<T> callStream(String actorId, int methodId, Q request, Serializer<Q> requestSerializer, Serializer<T> itemSerializer);

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

  /**
   * Moves the data path to an actor onto RDMA (UCX): opens a UCX endpoint between this process and the
   * actor's, with the handshake (worker addresses, link ids) carried on the existing TCP connection, and
   * from then on sends calls, stream requests and new subscriptions to that actor over it; replies, stream
   * items and pushes come back over it. Payloads are serialized straight into registered memory and handed
   * to the actor's methods as views of registered memory, so the actor needs no change. UCX picks
   * InfiniBand/RoCE where present, else shared memory or TCP. There is no maximum frame size on the link:
   * large payloads move by rendezvous.
   * <p>
   * The link lives as long as the TCP connection to the actor. If it fails later, calls in flight on it fail
   * and later calls go over TCP again. Fails with {@link io.spoke.vertx.RdmaUnavailableException} when this
   * process or the actor's cannot use UCX (the message says which, and what to install), leaving calls on
   * TCP; with {@link io.spoke.vertx.RdmaException} (carrying the UCX status) when UCX fails to connect.
   * Calling it again once the link is up does nothing.
   */
  Future<Void> initRdma(String actorId);

  /**
   * Where this client's connection to an actor goes, as its socket reports it: the actor's Unix socket when the
   * client is on the actor's machine (and {@link SpokeClientOptions#setLocalSockets} is on), its TCP address
   * otherwise; connecting first if there is no connection yet. For diagnostics: which path the calls take.
   */
  Future<SocketAddress> actorAddress(String actorId);

  /** What the hub knows of an actor, including recently exited ones (state {@link ActorState#EXITED}). */
  Future<ActorInfo> resolve(String actorId);

  /**
   * Reserves resources for a gang of {@code nodes x actorsPerNode} ranks, all or nothing, and reports the
   * placement (node, local rank and exact GPU ids of each rank, MASTER_ADDR and MASTER_PORT) before
   * anything runs: the first phase of Spoke's two-phase launch. The ticket belongs to this client: it is
   * released when the client closes, or dies, unless the request is {@linkplain GangRequest#setDetached detached}.
   * <p>
   * Fails at once with {@link io.spoke.vertx.SchedulingException} saying what is missing when the gang does
   * not fit now, unless the request {@linkplain GangRequest#setWaitForResources waits}: it then queues
   * (first in, first out) until placed or until its timeout, failing with
   * {@link io.spoke.vertx.PlacementTimeoutException}. A gang that can never fit the registered nodes fails at
   * once with {@link io.spoke.vertx.InfeasibleException}, also when asked to wait. Releasing the ticket
   * while it waits cancels the request.
   */
  Future<Allocation> gangAllocate(GangRequest request);

  /** Launches an actor in a slot, with no constructor arguments. */
  default Future<ActorHandle> launch(String ticketId, int globalRank, String actorType, String actorId) {
    return launch(ticketId, globalRank, actorType, actorId, new SpawnOptions());
  }

  /**
   * Starts actor {@code actorId} in slot {@code globalRank} of a ticket: on the slot's node, with exactly
   * its GPUs in {@code CUDA_VISIBLE_DEVICES} (empty when it has none), and {@code RANK},
   * {@code WORLD_SIZE}, {@code LOCAL_RANK}, {@code LOCAL_WORLD_SIZE}, {@code MASTER_ADDR},
   * {@code MASTER_PORT} and {@code SPOKE_TICKET} set, so that the ranks form a torch.distributed / NCCL
   * process group with no further configuration. Completes when the actor is listening.
   * <p>
   * {@code options} may give arguments, environment, JVM options and a timeout; resources come from the
   * slot, so its node and resources must not be set. Fails with {@link io.spoke.vertx.TicketNotFoundException}
   * for an unknown or released ticket, {@link io.spoke.vertx.InvalidRequestException} for a rank out of
   * range, {@link io.spoke.vertx.SlotTakenException} when the rank runs an actor already.
   */
  Future<ActorHandle> launch(String ticketId, int globalRank, String actorType, String actorId, SpawnOptions options);

  /** Starts a managed process where the hub chooses, with no GPUs; see {@link #spawnProcess(String, ProcessSpec, SpawnOptions)}. */
  default Future<ManagedProcess> spawnProcess(String processId, ProcessSpec spec) {
    return spawnProcess(processId, spec, new SpawnOptions());
  }

  /**
   * Starts managed process {@code processId} running {@code spec}'s command on a node with {@code options}' resources
   * (its {@code node}, {@code gpus}, {@code cpus}, {@code memoryMb}; {@code env} is added to the spec's; JVM options and
   * arguments do not apply). It gets its GPUs in {@code CUDA_VISIBLE_DEVICES}, {@code SPOKE_NODE_IP},
   * {@code SPOKE_PORT_0}.. for {@link ProcessSpec#setPorts its ports} and {@code SPOKE_ATTEMPT}; its output goes to its
   * log file. Completes when it is {@linkplain ProcessSpec#setReady ready}; fails with
   * {@link io.spoke.vertx.SpawnException} carrying its exit status (when it died) and the end of its log when it
   * exits first or is not ready within the timeout ({@link SpawnOptions#setTimeout}), and as {@link #spawn} does for
   * placement. Whatever fails, nothing it started is left running.
   */
  Future<ManagedProcess> spawnProcess(String processId, ProcessSpec spec, SpawnOptions options);

  /** Launches a managed process in a slot; see {@link #launchProcess(String, int, String, ProcessSpec, SpawnOptions)}. */
  default Future<ManagedProcess> launchProcess(String ticketId, int globalRank, String processId, ProcessSpec spec) {
    return launchProcess(ticketId, globalRank, processId, spec, new SpawnOptions());
  }

  /**
   * Starts managed process {@code processId} in slot {@code globalRank} of a ticket: on the slot's node, with its GPUs
   * and the rank's environment as {@link #launch} gives a Java actor ({@code RANK}, {@code WORLD_SIZE},
   * {@code LOCAL_RANK}, {@code LOCAL_WORLD_SIZE}, {@code MASTER_ADDR}, {@code MASTER_PORT}, {@code SPOKE_TICKET}, the
   * GPU variables), and {@code SPOKE_NODE_IP}, {@code SPOKE_PORT_0}.., {@code SPOKE_ATTEMPT} and, unless its
   * environment names one, {@code GLOO_SOCKET_IFNAME} (the interface of its node's advertised address). Releasing the
   * ticket stops it, and its whole process tree. {@code options} may give environment and a timeout only. Completes and
   * fails as {@link #spawnProcess(String, ProcessSpec, SpawnOptions)} and {@link #launch} do.
   */
  Future<ManagedProcess> launchProcess(String ticketId, int globalRank, String processId, ProcessSpec spec, SpawnOptions options);

  /**
   * Stops every actor launched under the ticket and frees all its resources at once, once they have
   * stopped; cancels the request if it is still waiting. Idempotent: releasing a released ticket, or one
   * whose node died, succeeds.
   */
  Future<Void> release(String ticketId);

  /** This client's tickets, each with its slots and the actors launched in them. */
  Future<java.util.List<Allocation>> tickets();

  /**
   * Reads up to {@code maxBytes} of an actor's log (its stdout and stderr) from {@code offset}, through the
   * hub, wherever the actor runs; also for actors that exited recently.
   */
  Future<ActorLog> readLog(String actorId, long offset, int maxBytes);

  /**
   * Called on the client's context when the hub reports that one of this client's tickets changed on its
   * own: failed because a node died or its gang restarts ran out, restarted as a gang ({@link Allocation#restarts()}
   * counts up, {@link Allocation#reason()} says why), or released after this client's session expired.
   */
  SpokeClient ticketHandler(Handler<Allocation> handler);

  /** Called on the client's context when an actor this client knows (spawned, launched or called) exits. */
  SpokeClient actorExitHandler(Handler<ActorInfo> handler);

  /** The cluster's nodes, their free resources, and its actors. */
  Future<ClusterStatus> status();

  /**
   * Releases this client's tickets (except detached ones), then closes every connection (calls in flight
   * fail) and, for a standalone client, its Vert.x instance. Ad-hoc actors keep running.
   */
  Future<Void> close();
}
