// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client.impl;

import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorLog;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.ManagedProcess;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.ActorCodec;
import io.spoke.vertx.protocol.HubClientCodec;
import io.spoke.vertx.protocol.Messages;
import io.spoke.vertx.protocol.Names;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.serialization.Serializer;
import io.spoke.vertx.serialization.Serializers;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.streams.ReadStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The client: checks the arguments of each operation and hands it, on {@link #context}, to what owns it: the hub
 * session ({@link HubSession}: control operations, tickets, hub events), the channels to actors
 * ({@link ActorChannels}, {@link ActorChannel}: calls, mailboxes, streams, reached through an {@link ActorConnector})
 * and the RDMA upgrade ({@link RdmaUpgrade}). All state is confined to {@link #context}; public methods hop onto it
 * when called from elsewhere.
 */
public final class SpokeClientImpl implements SpokeClient {

  private final Vertx vertx;
  private final boolean ownsVertx;
  private final SpokeClientOptions options;
  private final ContextInternal context;
  private final NetClient netClient;
  private final HubSession hub;
  private final ActorChannels channels;
  private final RdmaUpgrade rdma;
  private boolean closed;

  public SpokeClientImpl(Vertx vertx, SpokeClientOptions options, boolean ownsVertx) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.options = new SpokeClientOptions(Objects.requireNonNull(options, "options"));
    this.ownsVertx = ownsVertx;
    ContextInternal current = ContextInternal.current();
    this.context = current != null && current.owner() == vertx && current.isEventLoopContext()
      ? current : (ContextInternal) vertx.getOrCreateContext();
    ClusterAuth auth = ClusterAuth.of(options.getSecurity().resolveToken());
    this.netClient = vertx.createNetClient(options.getSecurity().applyTo(new NetClientOptions())
      .setTcpNoDelay(true)
      .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, options.getConnectTimeout())));
    String name = options.getName() != null ? options.getName() : "client-" + ProcessHandle.current().pid();
    // This client's hello, to which each connect adds whom it wants.
    ClientHello hello = ClientHello.of(Role.Client, name, auth).withMaxFrameSize(options.getMaxFrameSize())
      .withTimeout(options.getConnectTimeout());
    this.hub = new HubSession(vertx, this.options, netClient, hello, () -> closed);
    this.channels = new ActorChannels(context, this.options.getCallTimeout(), this.options.getRequestTimeout(), hub,
      new ActorConnector(this.options, netClient, hello), () -> closed);
    this.rdma = new RdmaUpgrade(context, hello, this.options.getRequestTimeout(), () -> closed);
    hub.actorEventHandler(channels::onActorEvent);
  }

  // ------------------------------------------------------------------ control operations

  /** The type name of managed processes, in the hub's directory and status views. */
  static final String PROCESS_TYPE = "process";

  @Override
  public Future<ActorHandle> spawn(String actorType, String actorId, SpawnOptions spawnOptions) {
    String error = Names.checkType(actorType);
    if (error == null) {
      error = Names.checkId("actor id", actorId);
    }
    if (error != null) {
      return Future.failedFuture(new IllegalArgumentException(error));
    }
    SpawnOptions o = new SpawnOptions(Objects.requireNonNull(spawnOptions, "options"));
    long timeout = o.getTimeout() > 0 ? o.getTimeout() : options.getSpawnTimeout();
    // The hub answers once the agent has the actor listening; allow for the hops around the spawn itself.
    return onContext(() -> hub.request(HubClientCodec.spawn(actorType, actorId, o, timeout), o.getArgs(),
        timeout + options.getRequestTimeout(), "spawn of actor '" + actorId + "'", frame -> Messages.readActorInfo(frame, "the hub"))
      .map(this::started));
  }

  private ActorHandle started(ActorInfo info) {
    channels.started(info);
    return new ActorHandleImpl(this, info);
  }

  // ------------------------------------------------------------------ gangs

  @Override
  public Future<Allocation> gangAllocate(GangRequest request) {
    GangRequest r = new GangRequest(Objects.requireNonNull(request, "request"));
    long timeout = r.getTimeout() > 0 ? r.getTimeout() : options.getRequestTimeout();
    // Across a failover, asked again: the same ticket id gets the first answer, never a second allocation.
    return onContext(() -> hub.acrossFailover(timeout + options.getRequestTimeout(), () -> hub.gangAllocate(r, timeout)));
  }

  @Override
  public Future<ActorHandle> launch(String ticketId, int globalRank, String actorType, String actorId, SpawnOptions spawnOptions) {
    String error = Names.checkId("ticket id", ticketId);
    if (error == null) {
      error = Names.checkType(actorType);
    }
    if (error == null) {
      error = Names.checkId("actor id", actorId);
    }
    if (error == null && globalRank < 0) {
      error = "rank must not be negative, got " + globalRank;
    }
    SpawnOptions o = new SpawnOptions(Objects.requireNonNull(spawnOptions, "options"));
    if (error == null && (o.getNode() != null || o.getGpus() != 0 || o.getCpus() != 0 || o.getMemoryMb() != 0)) {
      error = "a launched actor runs on its slot's node with its slot's resources: do not set node, gpus, cpus or memoryMb";
    }
    if (error != null) {
      return Future.failedFuture(new IllegalArgumentException(error));
    }
    long timeout = o.getTimeout() > 0 ? o.getTimeout() : options.getSpawnTimeout();
    return onContext(() -> hub.request(HubClientCodec.launch(ticketId, globalRank, actorType, actorId, o, timeout), o.getArgs(),
        timeout + options.getRequestTimeout(), "launch of rank " + globalRank + " of ticket " + ticketId,
        frame -> Messages.readActorInfo(frame, "the hub"))
      .map(this::started));
  }

  @Override
  public Future<ManagedProcess> spawnProcess(String processId, ProcessSpec spec, SpawnOptions spawnOptions) {
    SpawnOptions o = new SpawnOptions(Objects.requireNonNull(spawnOptions, "options"));
    String error = checkProcess(processId, spec, o);
    if (error != null) {
      return Future.failedFuture(new IllegalArgumentException(error));
    }
    ProcessSpec p = new ProcessSpec(spec);
    long timeout = o.getTimeout() > 0 ? o.getTimeout() : options.getSpawnTimeout();
    o.setEnv(processEnv(o, p));
    return onContext(() -> hub.request(HubClientCodec.spawn(PROCESS_TYPE, processId, o, timeout, p), null,
        timeout + options.getRequestTimeout(), "spawn of process '" + processId + "'", frame -> Messages.readActorInfo(frame, "the hub"))
      .map(this::processStarted));
  }

  @Override
  public Future<ManagedProcess> launchProcess(String ticketId, int globalRank, String processId, ProcessSpec spec,
                                              SpawnOptions spawnOptions) {
    SpawnOptions o = new SpawnOptions(Objects.requireNonNull(spawnOptions, "options"));
    String error = Names.checkId("ticket id", ticketId);
    if (error == null && globalRank < 0) {
      error = "rank must not be negative, got " + globalRank;
    }
    if (error == null && (o.getNode() != null || o.getGpus() != 0 || o.getCpus() != 0 || o.getMemoryMb() != 0)) {
      error = "a launched process runs on its slot's node with its slot's resources: do not set node, gpus, cpus or memoryMb";
    }
    if (error == null) {
      error = checkProcess(processId, spec, o);
    }
    if (error != null) {
      return Future.failedFuture(new IllegalArgumentException(error));
    }
    ProcessSpec p = new ProcessSpec(spec);
    long timeout = o.getTimeout() > 0 ? o.getTimeout() : options.getSpawnTimeout();
    o.setEnv(processEnv(o, p));
    return onContext(() -> hub.request(HubClientCodec.launch(ticketId, globalRank, PROCESS_TYPE, processId, o, timeout, p), null,
        timeout + options.getRequestTimeout(), "launch of rank " + globalRank + " of ticket " + ticketId,
        frame -> Messages.readActorInfo(frame, "the hub"))
      .map(this::processStarted));
  }

  private static String checkProcess(String processId, ProcessSpec spec, SpawnOptions o) {
    String error = Names.checkId("process id", processId);
    if (error != null) {
      return error;
    }
    try {
      Objects.requireNonNull(spec, "spec").validate();
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
    if (!o.getJvmOptions().isEmpty() || o.getArgs() != null) {
      return "JVM options and actor arguments do not apply to a process: put them in its command";
    }
    return null;
  }

  /** The spec's environment over the options': both go in the message's env, as a Java actor's options' do. */
  private static Map<String, String> processEnv(SpawnOptions o, ProcessSpec p) {
    Map<String, String> env = new LinkedHashMap<>(o.getEnv());
    env.putAll(p.getEnv());
    return env;
  }

  private ManagedProcess processStarted(ActorInfo info) {
    return new ManagedProcessImpl(this, info, channels.processExit(info.id()));
  }

  @Override
  public Future<Void> release(String ticketId) {
    String error = Names.checkId("ticket id", ticketId);
    if (error != null) {
      return Future.failedFuture(new IllegalArgumentException(error));
    }
    return onContext(() -> hub.release(ticketId));
  }

  @Override
  public Future<List<Allocation>> tickets() {
    return onContext(() -> hub.request(HubClientCodec.tickets(), null, options.getRequestTimeout(), "tickets",
      HubClientCodec::readTicketList));
  }

  @Override
  public Future<ActorLog> readLog(String actorId, long offset, int maxBytes) {
    String error = Names.checkId("actor id", actorId);
    if (error == null && (offset < 0 || maxBytes <= 0)) {
      error = "offset must not be negative and maxBytes must be positive";
    }
    if (error != null) {
      return Future.failedFuture(new IllegalArgumentException(error));
    }
    int max = Math.min(maxBytes, options.getMaxFrameSize() / 2);
    return onContext(() -> hub.request(HubClientCodec.readLog(actorId, offset, max), null, options.getRequestTimeout(),
      "log of actor '" + actorId + "'", frame -> HubClientCodec.readLogChunk(frame, offset)));
  }

  @Override
  public SpokeClient ticketHandler(Handler<Allocation> handler) {
    hub.ticketHandler(handler);
    return this;
  }

  @Override
  public SpokeClient actorExitHandler(Handler<ActorInfo> handler) {
    channels.actorExitHandler(handler);
    return this;
  }

  @Override
  public Future<ActorHandle> actor(String actorId) {
    return resolve(actorId).map(info -> {
      if (info.state() == ActorState.EXITED) {
        throw ActorChannels.deadException(info);
      }
      return new ActorHandleImpl(this, info);
    });
  }

  @Override
  public Future<Void> stop(String actorId) {
    String error = Names.checkId("actor id", actorId);
    if (error != null) {
      return Future.failedFuture(new IllegalArgumentException(error));
    }
    return onContext(() -> hub.request(HubClientCodec.stop(actorId), null, options.getRequestTimeout() + 60_000,
      "stop of actor '" + actorId + "'", f -> (Void) null).onSuccess(v -> channels.stopped(actorId)));
  }

  @Override
  public Future<ActorInfo> resolve(String actorId) {
    String error = Names.checkId("actor id", actorId);
    if (error != null) {
      return Future.failedFuture(new IllegalArgumentException(error));
    }
    return onContext(() -> channels.resolve(actorId));
  }

  @Override
  public Future<ClusterStatus> status() {
    return onContext(() -> hub.acrossFailover(options.getRequestTimeout(), () -> hub.request(HubClientCodec.status(), null,
      options.getRequestTimeout(), "status", HubClientCodec::readClusterStatus)));
  }

  // ------------------------------------------------------------------ calls

  @Override
  public Future<Buffer> call(String actorId, int methodId, Buffer request) {
    return call(actorId, methodId, request, Serializers.BUFFER, Serializers.BUFFER);
  }

  @Override
  public <Q, R> Future<R> call(String actorId, int methodId, Q request, Serializer<Q> requestSerializer,
                               Serializer<R> responseSerializer) {
    Objects.requireNonNull(requestSerializer, "requestSerializer");
    Objects.requireNonNull(responseSerializer, "responseSerializer");
    if (context.inThread()) {
      return callOnContext(actorId, methodId, request, requestSerializer, responseSerializer);
    }
    Promise<R> promise = context.promise();
    context.runOnContext(v -> callOnContext(actorId, methodId, request, requestSerializer, responseSerializer).onComplete(promise));
    return promise.future();
  }

  private <Q, R> Future<R> callOnContext(String actorId, int methodId, Q request, Serializer<Q> requestSerializer,
                                         Serializer<R> responseSerializer) {
    ActorChannel channel = channels.get(actorId);
    if (channel != null && channel.connection != null) {
      return channel.connection.call(methodId, request, requestSerializer, responseSerializer, options.getCallTimeout());
    }
    return channels.connection(actorId)
      .compose(connection -> connection.call(methodId, request, requestSerializer, responseSerializer, options.getCallTimeout()));
  }

  @Override
  public <Q> Future<Void> send(String actorId, int methodId, Q request, Serializer<Q> requestSerializer) {
    Objects.requireNonNull(requestSerializer, "requestSerializer");
    return onContext(() -> {
      ActorChannel channel = channels.get(actorId);
      if (channel != null && channel.connection != null) {
        return channel.connection.callOneWay(methodId, request, requestSerializer);
      }
      return channels.connection(actorId).compose(connection -> connection.callOneWay(methodId, request, requestSerializer));
    });
  }

  @Override
  public <Q, T> ReadStream<T> callStream(String actorId, int methodId, Q request, Serializer<Q> requestSerializer,
                                         Serializer<T> itemSerializer) {
    Objects.requireNonNull(requestSerializer, "requestSerializer");
    Objects.requireNonNull(itemSerializer, "itemSerializer");
    int window = options.getStreamWindow();
    ItemStream<T> stream = new ItemStream<>(context, itemSerializer, window);
    onContext(() -> channels.connection(actorId).map(connection -> {
      channels.get(actorId).openStream(connection, methodId, request, requestSerializer, stream, window);
      return null;
    })).onFailure(err -> stream.onEnd(err));
    return stream;
  }

  @Override
  public Future<SocketAddress> actorAddress(String actorId) {
    return onContext(() -> channels.connection(actorId).map(connection -> connection.link().remoteAddress()));
  }

  // ------------------------------------------------------------------ RDMA

  @Override
  public Future<Void> initRdma(String actorId) {
    return onContext(() -> channels.connection(actorId).compose(tcp -> rdma.start(channels.get(actorId), actorId, tcp)));
  }

  // ------------------------------------------------------------------ mailboxes

  @Override
  public Future<Void> subscribe(String actorId, int mailboxId, Handler<Buffer> handler) {
    Objects.requireNonNull(handler, "handler");
    return onContext(() -> channels.connection(actorId).compose(connection -> {
      ActorChannel channel = channels.get(actorId);
      if (channel == null || channel.connection != connection) {
        return Future.failedFuture(new UnavailableException("the connection to actor '" + actorId + "' closed"));
      }
      channel.subscriptions.put(mailboxId, handler);
      return connection.request(ActorCodec.subscribe(mailboxId), null, options.getRequestTimeout(),
          "subscribe to mailbox " + mailboxId + " of actor '" + actorId + "'", f -> (Void) null)
        .onFailure(err -> channel.subscriptions.remove(mailboxId, handler));
    }));
  }

  @Override
  public Future<Void> unsubscribe(String actorId, int mailboxId) {
    return onContext(() -> {
      ActorChannel channel = channels.get(actorId);
      if (channel == null || channel.connection == null || channel.subscriptions.remove(mailboxId) == null) {
        return Future.succeededFuture();
      }
      Connection connection = channel.connection;
      return connection.request(ActorCodec.unsubscribe(mailboxId), null, options.getRequestTimeout(),
        "unsubscribe from mailbox " + mailboxId + " of actor '" + actorId + "'", f -> (Void) null);
    });
  }

  // ------------------------------------------------------------------ lifecycle

  @Override
  public Future<Void> close() {
    Future<Void> connectionsClosed = onContext(() -> {
      if (closed) {
        return Future.succeededFuture();
      }
      return hub.releaseOwnedTickets().transform(ar -> closeConnections());
    });
    if (!ownsVertx) {
      return connectionsClosed;
    }
    // A standalone client closes its own Vert.x instance: a future bound to one of that instance's event loops would
    // never complete (its loop is gone by then), so the outcome is reported from a thread of no Vert.x instance.
    Promise<Void> closedVertx = Promise.promise();
    connectionsClosed.onComplete(ar -> {
      Thread closer = new Thread(() -> vertx.close().onComplete(closedVertx), "spoke-client-close");
      closer.setDaemon(true);
      closer.start();
    });
    return closedVertx.future();
  }

  private Future<Void> closeConnections() {
    if (closed) {
      return Future.succeededFuture();
    }
    closed = true;
    hub.cancelRetry();
    channels.close();
    return hub.close().transform(ar -> netClient.close());
  }

  private <T> Future<T> onContext(Supplier<Future<T>> action) {
    if (context.inThread()) {
      return action.get();
    }
    Promise<T> promise = context.promise();
    context.runOnContext(v -> action.get().onComplete(promise));
    return promise.future();
  }

  static String rootMessage(Throwable error) {
    Throwable t = error;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() != null ? t.getMessage() : t.toString();
  }
}
