package io.spoke.vertx.client.impl;

import com.google.flatbuffers.FlatBufferBuilder;
import io.spoke.vertx.ActorDeadException;
import io.spoke.vertx.ActorNotFoundException;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorLog;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.client.TicketState;
import io.spoke.vertx.internal.BoundedMap;
import io.spoke.vertx.internal.ExitStatus;
import io.spoke.vertx.internal.LocalHost;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.internal.net.RdmaSupport;
import io.spoke.vertx.protocol.PushView;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.Messages;
import io.spoke.vertx.protocol.Names;
import io.spoke.vertx.protocol.fb.ActorEvent;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.FbAllocation;
import io.spoke.vertx.protocol.fb.FbClusterStatus;
import io.spoke.vertx.protocol.fb.GangAllocate;
import io.spoke.vertx.protocol.fb.KeyValue;
import io.spoke.vertx.protocol.fb.Launch;
import io.spoke.vertx.protocol.fb.LogChunk;
import io.spoke.vertx.protocol.fb.RdmaAccept;
import io.spoke.vertx.protocol.fb.RdmaConnect;
import io.spoke.vertx.protocol.fb.ReadLog;
import io.spoke.vertx.protocol.fb.Release;
import io.spoke.vertx.protocol.fb.Resolve;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.protocol.fb.Spawn;
import io.spoke.vertx.protocol.fb.Status;
import io.spoke.vertx.protocol.fb.Stop;
import io.spoke.vertx.protocol.fb.Subscribe;
import io.spoke.vertx.protocol.fb.TicketEvent;
import io.spoke.vertx.protocol.fb.TicketList;
import io.spoke.vertx.protocol.fb.Tickets;
import io.spoke.vertx.protocol.fb.Unsubscribe;
import io.spoke.vertx.serialization.Serializer;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.spi.RdmaProvider.RdmaLink;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The client. All state is confined to {@link #context}; public methods hop onto it when called from
 * elsewhere. One connection to the hub (opened on first use, reopened on the next use after a loss) and one
 * to each actor called.
 */
public final class SpokeClientImpl implements SpokeClient {

  private static final Logger log = LogManager.getLogger(SpokeClientImpl.class);

  /** How long to wait for the hub to report an actor's exit after its connection drops with calls in flight. */
  static final long DEATH_REPORT_GRACE_MS = 500;
  /** Exited actors remembered, to explain failures of late calls. */
  static final int DEATHS_KEPT = 1024;
  /** First and longest wait between tries to reach a lost hub while this client owns tickets (see keepSession). */
  static final long HUB_RETRY_MIN_MS = 100;
  static final long HUB_RETRY_MAX_MS = 2_000;

  private final Vertx vertx;
  private final boolean ownsVertx;
  private final SpokeClientOptions options;
  private final ContextInternal context;
  private final NetClient netClient;
  private final ClusterAuth auth;
  private final String name;
  /** This client's hello, to which each connect adds whom it wants. */
  private final ClientHello hello;
  private final Map<String, ActorChannel> channels = new HashMap<>();
  private final Map<String, ActorInfo> deaths = new BoundedMap<>(DEATHS_KEPT);
  /** Identifies this client to the hub across reconnections: its tickets belong to it. */
  private final String session = "s-" + Long.toHexString(new java.security.SecureRandom().nextLong());
  /** Tickets this client allocated, not detached: released by close(). */
  private final java.util.Set<String> ownedTickets = new java.util.LinkedHashSet<>();
  private Handler<Allocation> ticketHandler;
  private Handler<ActorInfo> actorExitHandler;
  private Connection hub;
  private Future<Connection> hubConnecting;
  private boolean closed;
  /** While the hub is lost and this client owns tickets: the timer of the next try to reach it again. */
  private long hubRetryTimer = -1;
  private long hubRetryDelay = HUB_RETRY_MIN_MS;

  public SpokeClientImpl(Vertx vertx, SpokeClientOptions options, boolean ownsVertx) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.options = new SpokeClientOptions(Objects.requireNonNull(options, "options"));
    this.ownsVertx = ownsVertx;
    ContextInternal current = ContextInternal.current();
    this.context = current != null && current.owner() == vertx && current.isEventLoopContext()
      ? current : (ContextInternal) vertx.getOrCreateContext();
    this.auth = ClusterAuth.of(options.getSecurity().resolveToken());
    this.netClient = vertx.createNetClient(options.getSecurity().applyTo(new NetClientOptions())
      .setTcpNoDelay(true)
      .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, options.getConnectTimeout())));
    this.name = options.getName() != null ? options.getName() : "client-" + ProcessHandle.current().pid();
    this.hello = ClientHello.of(Role.Client, name, auth).withMaxFrameSize(options.getMaxFrameSize())
      .withTimeout(options.getConnectTimeout());
  }

  // ------------------------------------------------------------------ control operations

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
    return onContext(() -> hub().compose(hub -> {
      FlatBufferBuilder b = hub.builder();
      int type = b.createString(actorType);
      int id = b.createString(actorId);
      int node = Messages.string(b, o.getNode());
      int envVector = envVector(b, o.getEnv());
      int jvm = Messages.stringVector(b, o.getJvmOptions());
      int body = Spawn.createSpawn(b, type, id, node, o.getGpus(), o.getCpus(), o.getMemoryMb(), envVector, jvm, timeout, 0, 0);
      // The hub answers once the agent has the actor listening; allow for the hops around the spawn itself.
      return hub.request(Body.Spawn, body, o.getArgs(), timeout + options.getRequestTimeout(), "spawn of actor '" + actorId + "'",
        frame -> Messages.readActorInfo(frame, "the hub"));
    }).map(info -> {
      deaths.remove(info.id());
      ActorChannel channel = channels.computeIfAbsent(info.id(), ActorChannel::new);
      channel.info = info;
      return (ActorHandle) new ActorHandleImpl(this, info);
    }));
  }

  private static int envVector(FlatBufferBuilder b, Map<String, String> env) {
    int[] entries = new int[env.size()];
    int i = 0;
    for (Map.Entry<String, String> e : env.entrySet()) {
      entries[i++] = KeyValue.createKeyValue(b, b.createString(e.getKey()), b.createString(e.getValue()));
    }
    return Spawn.createEnvVector(b, entries);
  }

  // ------------------------------------------------------------------ gangs

  @Override
  public Future<Allocation> gangAllocate(GangRequest request) {
    GangRequest r = new GangRequest(Objects.requireNonNull(request, "request"));
    long timeout = r.getTimeout() > 0 ? r.getTimeout() : options.getRequestTimeout();
    return onContext(() -> hub().compose(hub -> {
      FlatBufferBuilder b = hub.builder();
      int ticket = b.createString(r.getTicketId());
      int custom = Messages.quantities(b, r.getCustomResources());
      int preferred = Messages.string(b, r.getPreferredNode());
      int body = GangAllocate.createGangAllocate(b, ticket, r.getNodes(), r.getActorsPerNode(), r.getGpus(), r.getCpus(),
        r.getMemoryMb(), custom, (byte) r.getStrategy().ordinal(), preferred, timeout, r.isWaitForResources(), r.isDetached());
      if (!r.isDetached()) {
        ownedTickets.add(r.getTicketId());
      }
      // The hub answers when the gang is placed (or its wait ends), then reserves a rendezvous port: allow for both.
      return hub.request(Body.GangAllocate, body, null, timeout + options.getRequestTimeout(),
          "gang allocation of ticket " + r.getTicketId(), SpokeClientImpl::readAllocation)
        .onFailure(err -> ownedTickets.remove(r.getTicketId()));
    }));
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
    return onContext(() -> hub().compose(hub -> {
      FlatBufferBuilder b = hub.builder();
      int ticket = b.createString(ticketId);
      int type = b.createString(actorType);
      int id = b.createString(actorId);
      int env = envVector(b, o.getEnv());
      int jvm = Messages.stringVector(b, o.getJvmOptions());
      int body = Launch.createLaunch(b, ticket, globalRank, type, id, env, jvm, timeout);
      return hub.request(Body.Launch, body, o.getArgs(), timeout + options.getRequestTimeout(),
        "launch of rank " + globalRank + " of ticket " + ticketId, frame -> Messages.readActorInfo(frame, "the hub"));
    }).map(info -> {
      deaths.remove(info.id());
      channels.computeIfAbsent(info.id(), ActorChannel::new).info = info;
      return (ActorHandle) new ActorHandleImpl(this, info);
    }));
  }

  @Override
  public Future<Void> release(String ticketId) {
    String error = Names.checkId("ticket id", ticketId);
    if (error != null) {
      return Future.failedFuture(new IllegalArgumentException(error));
    }
    return onContext(() -> releaseOnContext(ticketId));
  }

  private Future<Void> releaseOnContext(String ticketId) {
    return hub().compose(hub -> {
      FlatBufferBuilder b = hub.builder();
      int body = Release.createRelease(b, b.createString(ticketId));
      // Stopping the ticket's actors may take the agents' stop timeout.
      return hub.request(Body.Release, body, null, options.getRequestTimeout() + 60_000, "release of ticket " + ticketId,
        f -> (Void) null);
    }).onSuccess(v -> ownedTickets.remove(ticketId));
  }

  @Override
  public Future<List<Allocation>> tickets() {
    return onContext(() -> hub().compose(hub -> {
      FlatBufferBuilder b = hub.builder();
      int body = Tickets.createTickets(b, false);
      return hub.request(Body.Tickets, body, null, options.getRequestTimeout(), "tickets", frame -> {
        if (frame.bodyType() != Body.TicketList) {
          throw new ProtocolException("the hub answered with message type " + frame.bodyType() + " instead of a ticket list");
        }
        TicketList list = (TicketList) frame.header().body(new TicketList());
        int n = Messages.length(list.ticketsLength(), "tickets");
        List<Allocation> tickets = new ArrayList<>(n);
        FbAllocation table = new FbAllocation();
        for (int i = 0; i < n; i++) {
          tickets.add(Messages.readAllocation(list.tickets(table, i)));
        }
        return tickets;
      });
    }));
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
    return onContext(() -> hub().compose(hub -> {
      FlatBufferBuilder b = hub.builder();
      int body = ReadLog.createReadLog(b, b.createString(actorId), offset, max);
      return hub.request(Body.ReadLog, body, null, options.getRequestTimeout(), "log of actor '" + actorId + "'", frame -> {
        if (frame.bodyType() != Body.LogChunk) {
          throw new ProtocolException("the hub answered with message type " + frame.bodyType() + " instead of a log chunk");
        }
        LogChunk chunk = (LogChunk) frame.header().body(new LogChunk());
        return new ActorLog(chunk.path(), offset, chunk.nextOffset(), chunk.size(), chunk.running(), frame.copyPayload());
      });
    }));
  }

  @Override
  public synchronized SpokeClient ticketHandler(Handler<Allocation> handler) {
    this.ticketHandler = handler;
    return this;
  }

  @Override
  public synchronized SpokeClient actorExitHandler(Handler<ActorInfo> handler) {
    this.actorExitHandler = handler;
    return this;
  }

  private static Allocation readAllocation(Frame frame) {
    if (frame.bodyType() != Body.FbAllocation) {
      throw new ProtocolException("expected an allocation from the hub, got message type " + frame.bodyType());
    }
    return Messages.readAllocation((FbAllocation) frame.header().body(new FbAllocation()));
  }

  @Override
  public Future<ActorHandle> actor(String actorId) {
    return resolve(actorId).map(info -> {
      if (info.state() == ActorState.EXITED) {
        throw deadException(info);
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
    return onContext(() -> hub().compose(hub -> {
      FlatBufferBuilder b = hub.builder();
      int body = Stop.createStop(b, b.createString(actorId));
      return hub.request(Body.Stop, body, null, options.getRequestTimeout() + 60_000, "stop of actor '" + actorId + "'", f -> (Void) null);
    }).onSuccess(v -> {
      ActorChannel channel = channels.remove(actorId);
      if (channel != null && channel.connection != null) {
        channel.connection.close();
      }
    }));
  }

  @Override
  public Future<ActorInfo> resolve(String actorId) {
    String error = Names.checkId("actor id", actorId);
    if (error != null) {
      return Future.failedFuture(new IllegalArgumentException(error));
    }
    return onContext(() -> resolveOnContext(actorId));
  }

  private Future<ActorInfo> resolveOnContext(String actorId) {
    return hub().compose(hub -> {
      FlatBufferBuilder b = hub.builder();
      int body = Resolve.createResolve(b, b.createString(actorId));
      return hub.request(Body.Resolve, body, null, options.getRequestTimeout(), "resolve of actor '" + actorId + "'",
        frame -> Messages.readActorInfo(frame, "the hub"));
    }).onSuccess(info -> {
      if (info.state() == ActorState.EXITED) {
        deaths.put(info.id(), info);
      }
    });
  }

  @Override
  public Future<ClusterStatus> status() {
    return onContext(() -> hub().compose(hub -> {
      FlatBufferBuilder b = hub.builder();
      Status.startStatus(b);
      int body = Status.endStatus(b);
      return hub.request(Body.Status, body, null, options.getRequestTimeout(), "status", frame -> {
        if (frame.bodyType() != Body.FbClusterStatus) {
          throw new ProtocolException("the hub answered status with message type " + frame.bodyType());
        }
        return Messages.readClusterStatus((FbClusterStatus) frame.header().body(new FbClusterStatus()));
      });
    }));
  }

  private Future<Connection> hub() {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("client is closed"));
    }
    if (hub != null && !hub.isClosed()) {
      return Future.succeededFuture(hub);
    }
    if (hubConnecting == null) {
      SocketAddress address = SocketAddress.inetSocketAddress(options.getHubPort(), options.getHubHost());
      hubConnecting = Connection.connect(netClient, address, hello.withSession(session))
        .recover(err -> Future.failedFuture(err instanceof UnavailableException
          ? new UnavailableException("cannot reach the Spoke hub at " + address + " (" + rootMessage(err)
          + "); is it running? Start one with ./spoke hub, or set the hub's address in SpokeClientOptions")
          : err))
        .onComplete(ar -> {
          hubConnecting = null;
          if (ar.succeeded()) {
            Connection connection = ar.result();
            hub = connection;
            connection.messageHandler(this::onHubMessage);
            hubRetryDelay = HUB_RETRY_MIN_MS;
            connection.closeHandler(c -> {
              if (hub == c) {
                hub = null;
                keepSession();
              }
            });
          }
        });
    }
    return hubConnecting;
  }

  /**
   * The hub connection was lost while this client owns tickets: reconnect in the background, at growing intervals
   * (at most {@link #HUB_RETRY_MAX_MS} apart), so that the hub (restarted, or reachable again) sees the session
   * back within its grace period and keeps the tickets.
   */
  private void keepSession() {
    if (closed || ownedTickets.isEmpty() || hubRetryTimer >= 0 || hub != null) {
      return;
    }
    long delay = hubRetryDelay;
    hubRetryDelay = Math.min(HUB_RETRY_MAX_MS, hubRetryDelay * 2);
    if (delay == HUB_RETRY_MIN_MS) {
      log.info("Lost the hub; reconnecting in the background to keep tickets {}", ownedTickets);
    }
    hubRetryTimer = vertx.setTimer(delay, t -> {
      hubRetryTimer = -1;
      if (closed || hub != null) {
        return;
      }
      hub().onFailure(err -> keepSession());
    });
  }

  private void onHubMessage(Connection connection, Frame frame) {
    try {
      if (frame.bodyType() == Body.ActorEvent && frame.id() == 0) {
        ActorEvent event = (ActorEvent) frame.header().body(new ActorEvent());
        if (event.actor() != null) {
          onActorEvent(Messages.readActorInfo(event.actor()));
        }
      } else if (frame.bodyType() == Body.TicketEvent && frame.id() == 0) {
        TicketEvent event = (TicketEvent) frame.header().body(new TicketEvent());
        if (event.allocation() != null) {
          Allocation allocation = Messages.readAllocation(event.allocation());
          if (allocation.state() == TicketState.RELEASED) {
            ownedTickets.remove(allocation.ticketId());
          }
          Handler<Allocation> handler;
          synchronized (this) {
            handler = ticketHandler;
          }
          if (handler != null) {
            handler.handle(allocation);
          }
        }
      } else if (frame.id() != 0) {
        connection.replyError(frame.id(), io.spoke.vertx.protocol.fb.ErrorCode.Protocol,
          "clients do not handle message type " + frame.bodyType(), null, Body.NONE, 0);
      }
    } catch (RuntimeException e) {
      log.warn("Ignoring a malformed event from the hub: {}", e.getMessage());
    } finally {
      frame.release();
    }
  }

  private void onActorEvent(ActorInfo info) {
    ActorChannel channel = channels.get(info.id());
    if (info.state() != ActorState.EXITED) {
      if (channel != null && info.state() == ActorState.RUNNING) {
        channel.info = info;
      }
      return;
    }
    deaths.put(info.id(), info);
    Handler<ActorInfo> handler;
    synchronized (this) {
      handler = actorExitHandler;
    }
    if (handler != null) {
      try {
        handler.handle(info);
      } catch (RuntimeException e) {
        log.error("Actor exit handler failed", e);
      }
    }
    if (channel == null) {
      return;
    }
    channel.info = null;
    ActorDeadException dead = deadException(info);
    for (Connection orphan : channel.awaitingDeathReport) {
      orphan.failPending(dead);
    }
    channel.awaitingDeathReport.clear();
    Connection[] open = {channel.connection, channel.tcp};
    channel.connection = null;
    channel.tcp = null;
    for (Connection connection : open) {
      if (connection != null) {
        connection.failPending(dead);
        connection.close();
      }
    }
    channels.remove(info.id());
  }

  static ActorDeadException deadException(ActorInfo info) {
    String reason = info.reason() != null ? info.reason() : ExitStatus.describe(info.exitCode());
    return new ActorDeadException(info.id(), info.exitCode(), info.logFile(), "actor '" + info.id() + "' is dead: " + reason
      + (info.logFile() != null ? "; its log: " + info.logFile() + (info.nodeId() != null ? " on node " + info.nodeId() : "") : ""));
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
    return actorConnection(actorId)
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
      return actorConnection(actorId).compose(connection -> connection.callOneWay(methodId, request, requestSerializer));
    });
  }

  @Override
  public <Q, T> ReadStream<T> callStream(String actorId, int methodId, Q request, Serializer<Q> requestSerializer,
                                         Serializer<T> itemSerializer) {
    Objects.requireNonNull(requestSerializer, "requestSerializer");
    Objects.requireNonNull(itemSerializer, "itemSerializer");
    int window = options.getStreamWindow();
    ItemStream<T> stream = new ItemStream<>(context, itemSerializer, window);
    onContext(() -> actorConnection(actorId).map(connection -> {
      ActorChannel channel = channels.get(actorId);
      long streamId = ++channel.lastStreamId;
      stream.opened(connection, streamId);
      channel.streams.put(streamId, stream);
      Promise<Void> done = context.promise();
      long requestId = connection.callStream(methodId, request, requestSerializer, streamId, window, options.getCallTimeout(), done);
      channel.streamCalls.put(streamId, requestId);
      done.future().onComplete(ar -> {
        channel.streams.remove(streamId);
        channel.streamCalls.remove(streamId);
        stream.onEnd(ar.cause());
      });
      return null;
    })).onFailure(err -> stream.onEnd(err));
    return stream;
  }

  /** The connection to an actor's host, resolving and connecting on first use. */
  private Future<Connection> actorConnection(String actorId) {
    if (closed) {
      return Future.failedFuture(new IllegalStateException("client is closed"));
    }
    String error = Names.checkId("actor id", actorId);
    if (error != null) {
      return Future.failedFuture(new IllegalArgumentException(error));
    }
    ActorChannel channel = channels.computeIfAbsent(actorId, ActorChannel::new);
    if (channel.connection != null) {
      return Future.succeededFuture(channel.connection);
    }
    if (channel.connecting == null) {
      boolean cached = channel.info != null;
      Future<Connection> connecting = endpoint(channel).compose(info -> connect(channel, info));
      if (cached) {
        // The cached endpoint may be stale (the actor was stopped and spawned again elsewhere): retry once, fresh.
        connecting = connecting.recover(err -> {
          if (!(err instanceof UnavailableException) && !(err instanceof ActorNotFoundException)) {
            return Future.failedFuture(err);
          }
          channel.info = null;
          return endpoint(channel).compose(info -> connect(channel, info));
        });
      }
      channel.connecting = connecting.onComplete(ar -> channel.connecting = null);
    }
    return channel.connecting;
  }

  private Future<ActorInfo> endpoint(ActorChannel channel) {
    if (channel.info != null) {
      return Future.succeededFuture(channel.info);
    }
    ActorInfo dead = deaths.get(channel.actorId);
    Future<ActorInfo> resolved = resolveOnContext(channel.actorId);
    return resolved.compose(info -> {
      if (info.state() == ActorState.EXITED) {
        return Future.failedFuture(deadException(info));
      }
      if (info.state() != ActorState.RUNNING || info.port() <= 0) {
        return Future.failedFuture(new UnavailableException("actor '" + info.id() + "' is " + info.state().name().toLowerCase()
          + ", not running"));
      }
      channel.info = info;
      return Future.succeededFuture(info);
    }, err -> dead != null && err instanceof ActorNotFoundException ? Future.failedFuture(deadException(dead)) : Future.failedFuture(err));
  }

  private Future<Connection> connect(ActorChannel channel, ActorInfo info) {
    SocketAddress address = SocketAddress.inetSocketAddress(info.port(), info.host());
    Future<Connection> connected;
    if (usesLocalSocket(info)) {
      // The same handshake over the actor's Unix socket. A socket that cannot be reached (gone, in another container's
      // file system, a transport without Unix sockets) or that another actor holds only costs the attempt, and the
      // call goes over TCP; a refused token or protocol version would be refused over TCP too, and is final.
      SocketAddress local = SocketAddress.domainSocketAddress(info.localSocket());
      connected = open(info, local)
        .recover(err -> {
          if (!(err instanceof UnavailableException) && !(err instanceof ActorNotFoundException)) {
            return Future.failedFuture(err);
          }
          log.debug("Cannot use the Unix socket {} of actor '{}', connecting over TCP: {}", local, info.id(), rootMessage(err));
          return connectTcp(info, address);
        });
    } else {
      connected = connectTcp(info, address);
    }
    return connected
      .map(connection -> {
        if (closed) {
          connection.close();
          throw new IllegalStateException("client is closed");
        }
        channel.connection = connection;
        connection.messageHandler((c, frame) -> onActorMessage(channel, c, frame));
        connection.closeHandler(c -> onActorConnectionClosed(channel, c));
        return connection;
      });
  }

  private Future<Connection> connectTcp(ActorInfo info, SocketAddress address) {
    return open(info, address)
      .recover(err -> Future.failedFuture(err instanceof UnavailableException
        ? new UnavailableException("cannot connect to actor '" + info.id() + "' at " + address + ": " + rootMessage(err), err) : err));
  }

  /** Connects to {@code info}'s actor at {@code address} and says hello as this client. */
  private Future<Connection> open(ActorInfo info, SocketAddress address) {
    return Connection.connect(netClient, address, hello.withTarget(info.id()));
  }

  /** Whether to call {@code info}'s actor through its Unix socket: it has one, on this host, and TLS is not required. */
  private boolean usesLocalSocket(ActorInfo info) {
    return options.isLocalSockets() && !options.getSecurity().isTls() && info.localSocket() != null && info.hostId() != null
      && info.hostId().equals(LocalHost.id());
  }

  @Override
  public Future<SocketAddress> actorAddress(String actorId) {
    return onContext(() -> actorConnection(actorId).map(connection -> connection.link().remoteAddress()));
  }

  private void onActorMessage(ActorChannel channel, Connection connection, Frame frame) {
    try {
      if (frame.bodyType() == Body.Push) {
        PushView push = channel.push.read(frame);
        if (push.stream() != 0) {
          ItemStream<?> stream = channel.streams.get(push.stream());
          if (stream != null) {
            Long requestId = channel.streamCalls.get(push.stream());
            if (requestId != null) {
              connection.extendDeadline(requestId, options.getCallTimeout());
            }
            try {
              stream.onItem(frame);
            } catch (RuntimeException e) {
              stream.onEnd(e);
            }
          }
          return;
        }
        int mailbox = push.mailbox();
        Handler<Buffer> handler = channel.subscriptions.get(mailbox);
        if (handler != null) {
          try {
            handler.handle(frame.payload());
          } catch (RuntimeException e) {
            log.error("Mailbox {} handler of actor {} failed", mailbox, channel.actorId, e);
          }
        }
      } else if (frame.id() != 0) {
        connection.replyError(frame.id(), io.spoke.vertx.protocol.fb.ErrorCode.Protocol,
          "clients do not handle message type " + frame.bodyType(), null, Body.NONE, 0);
      }
    } finally {
      frame.release();
    }
  }

  private void onActorConnectionClosed(ActorChannel channel, Connection connection) {
    if (channel.connection == connection) {
      if (channel.tcp != null && !channel.tcp.isClosed()) {
        // The RDMA link went down but the actor's TCP connection is up: calls go over TCP again.
        log.warn("RDMA link to actor {} closed; calls go over TCP again", channel.actorId);
        channel.connection = channel.tcp;
      } else {
        channel.connection = null;
      }
      channel.tcp = null;
      channel.subscriptions.clear();
    } else if (channel.tcp == connection) {
      // The TCP connection is the RDMA link's lifeline: the actor host closes its end of the link with it.
      Connection rdma = channel.connection;
      channel.tcp = null;
      channel.connection = null;
      channel.subscriptions.clear();
      if (rdma != null) {
        rdma.close();
      }
    }
    if (connection.pendingCount() == 0) {
      return;
    }
    ActorInfo dead = deaths.get(channel.actorId);
    if (dead != null) {
      connection.failPending(deadException(dead));
      return;
    }
    // The process probably died; its agent reports the exit status through the hub within milliseconds.
    connection.deferPendingFailure();
    channel.awaitingDeathReport.add(connection);
    context.setTimer(DEATH_REPORT_GRACE_MS, t -> {
      if (channel.awaitingDeathReport.remove(connection)) {
        connection.failPending(new UnavailableException("lost the connection to actor '" + channel.actorId + "' at "
          + connection.remoteAddress() + " with calls in flight; the hub has not reported the actor's exit"));
      }
    });
  }

  // ------------------------------------------------------------------ RDMA

  @Override
  public Future<Void> initRdma(String actorId) {
    return onContext(() -> actorConnection(actorId).compose(tcp -> {
      ActorChannel channel = channels.get(actorId);
      if (channel == null || channel.connection != tcp) {
        return Future.failedFuture(new UnavailableException("the connection to actor '" + actorId + "' closed"));
      }
      if (channel.tcp != null) {
        return Future.succeededFuture();
      }
      if (channel.rdmaStarting == null) {
        channel.rdmaStarting = openRdma(channel, tcp).onComplete(ar -> channel.rdmaStarting = null);
      }
      return channel.rdmaStarting;
    }));
  }

  private Future<Void> openRdma(ActorChannel channel, Connection tcp) {
    String actorId = channel.actorId;
    return RdmaSupport.start(context).compose(links -> {
      RdmaLink link = links.newLink();
      FlatBufferBuilder b = tcp.builder();
      int addressOffset = RdmaConnect.createWorkerAddressVector(b, links.workerAddress());
      return tcp.request(Body.RdmaConnect, RdmaConnect.createRdmaConnect(b, addressOffset, link.id()), null, options.getRequestTimeout(),
          "RDMA handshake with actor '" + actorId + "'", SpokeClientImpl::readRdmaAccept)
        .compose(peer -> link.connect(peer.workerAddress, peer.link, "actor '" + actorId + "'"))
        .compose(v -> Connection.connect(link, "actor '" + actorId + "' over UCX",
          hello.withMaxFrameSize(RdmaSupport.MAX_FRAME_SIZE).withTarget(actorId)))
        .onFailure(err -> link.close())
        .map(rdma -> {
          if (closed || channel.connection != tcp) {
            rdma.close();
            throw new UnavailableException("the connection to actor '" + actorId + "' closed during the RDMA handshake");
          }
          channel.tcp = tcp;
          channel.connection = rdma;
          rdma.messageHandler((c, frame) -> onActorMessage(channel, c, frame));
          rdma.closeHandler(c -> onActorConnectionClosed(channel, c));
          log.debug("Calls to actor {} go over UCX from now on", actorId);
          return (Void) null;
        });
    });
  }

  /** The actor host's end of an RDMA link. */
  private static final class RdmaPeer {

    final byte[] workerAddress;
    final long link;

    RdmaPeer(byte[] workerAddress, long link) {
      this.workerAddress = workerAddress;
      this.link = link;
    }
  }

  private static RdmaPeer readRdmaAccept(Frame frame) {
    if (frame.bodyType() != Body.RdmaAccept) {
      throw new ProtocolException("expected RdmaAccept in answer to RdmaConnect");
    }
    RdmaAccept accept = (RdmaAccept) frame.header().body(new RdmaAccept());
    byte[] address = Messages.bytes(accept.workerAddressAsByteBuffer());
    if (address.length == 0) {
      throw new ProtocolException("RdmaAccept without a worker address");
    }
    return new RdmaPeer(address, accept.link());
  }

  // ------------------------------------------------------------------ mailboxes

  @Override
  public Future<Void> subscribe(String actorId, int mailboxId, Handler<Buffer> handler) {
    Objects.requireNonNull(handler, "handler");
    return onContext(() -> actorConnection(actorId).compose(connection -> {
      ActorChannel channel = channels.get(actorId);
      if (channel == null || channel.connection != connection) {
        return Future.failedFuture(new UnavailableException("the connection to actor '" + actorId + "' closed"));
      }
      channel.subscriptions.put(mailboxId, handler);
      FlatBufferBuilder b = connection.builder();
      int body = Subscribe.createSubscribe(b, mailboxId);
      return connection.request(Body.Subscribe, body, null, options.getRequestTimeout(),
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
      FlatBufferBuilder b = connection.builder();
      int body = Unsubscribe.createUnsubscribe(b, mailboxId);
      return connection.request(Body.Unsubscribe, body, null, options.getRequestTimeout(),
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
      List<Future<Void>> releases = new ArrayList<>();
      for (String ticket : new ArrayList<>(ownedTickets)) {
        releases.add(releaseOnContext(ticket).recover(err -> {
          log.warn("Releasing ticket {} on close failed: {}", ticket, err.getMessage());
          return Future.succeededFuture();
        }));
      }
      return Future.join(releases).transform(ar -> closeConnections());
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
    if (hubRetryTimer >= 0) {
      vertx.cancelTimer(hubRetryTimer);
      hubRetryTimer = -1;
    }
    for (ActorChannel channel : new ArrayList<>(channels.values())) {
      if (channel.connection != null) {
        channel.connection.close();
      }
      if (channel.tcp != null) {
        channel.tcp.close();
      }
    }
    channels.clear();
    Future<Void> hubClosed = hub != null ? hub.close() : Future.succeededFuture();
    return hubClosed.transform(ar -> netClient.close());
  }

  private <T> Future<T> onContext(Supplier<Future<T>> action) {
    if (context.inThread()) {
      return action.get();
    }
    Promise<T> promise = context.promise();
    context.runOnContext(v -> action.get().onComplete(promise));
    return promise.future();
  }

  private static String rootMessage(Throwable error) {
    Throwable t = error;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() != null ? t.getMessage() : t.toString();
  }

  /** What the client keeps per actor it talks to. */
  private static final class ActorChannel {

    final String actorId;
    /** Reads the pushes of this actor's connection, on the client's context. */
    final PushView push = new PushView();
    final Map<Integer, Handler<Buffer>> subscriptions = new HashMap<>();
    final Map<Long, ItemStream<?>> streams = new HashMap<>();
    final Map<Long, Long> streamCalls = new HashMap<>();
    long lastStreamId;
    final java.util.List<Connection> awaitingDeathReport = new ArrayList<>(1);
    ActorInfo info;
    /** What calls go over: the TCP connection to the actor's host, or its RDMA link after initRdma. */
    Connection connection;
    /** With an RDMA link: the TCP connection it was opened through, which it lives no longer than. */
    Connection tcp;
    Future<Connection> connecting;
    Future<Void> rdmaStarting;

    ActorChannel(String actorId) {
      this.actorId = actorId;
    }
  }
}
