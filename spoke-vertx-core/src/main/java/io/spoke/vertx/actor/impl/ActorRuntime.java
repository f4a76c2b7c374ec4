package io.spoke.vertx.actor.impl;

import com.google.flatbuffers.FlatBufferBuilder;
import io.netty.util.collection.IntObjectHashMap;
import io.netty.util.collection.LongObjectHashMap;
import io.spoke.vertx.ActorNotFoundException;
import io.spoke.vertx.FrameTooLargeException;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.SerializationException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.actor.ActorContext;
import io.spoke.vertx.actor.MethodHandler;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.internal.net.MessageHandler;
import io.spoke.vertx.internal.net.RdmaSupport;
import io.spoke.vertx.internal.net.SocketLink;
import io.spoke.vertx.protocol.StreamCreditView;
import io.spoke.vertx.protocol.CallView;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.Messages;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Call;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.spoke.vertx.protocol.PeerHello;
import io.spoke.vertx.protocol.fb.RdmaAccept;
import io.spoke.vertx.protocol.fb.RdmaConnect;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.protocol.fb.StreamCredit;
import io.spoke.vertx.protocol.fb.Subscribe;
import io.spoke.vertx.protocol.fb.Unsubscribe;
import io.spoke.vertx.serialization.Serializer;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.service.ServiceRegistry;
import io.spoke.vertx.service.StreamHandler;
import io.spoke.vertx.spi.RdmaProvider.RdmaLink;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.streams.ReadStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Runs one actor in its host: its method table, its call listener (clients connect here directly, not
 * through the agent or the hub), and its mailboxes' subscribers. Everything happens on the actor's event
 * loop.
 */
public final class ActorRuntime implements ActorContext, MethodRegistry, ServiceRegistry {

  private static final Logger log = LogManager.getLogger(ActorRuntime.class);

  private final Vertx vertx;
  private final String actorId;
  private final String actorType;
  private final String nodeId;
  private final Buffer args;
  private final List<Integer> gpuIds;
  private final Slot slot;
  private final int maxFrameSize;
  private ClusterAuth auth = ClusterAuth.NONE;
  private final IntObjectHashMap<MethodEntry> methods = new IntObjectHashMap<>();
  private final IntObjectHashMap<Set<Connection>> subscribers = new IntObjectHashMap<>();
  private final Set<Connection> connections = new HashSet<>();
  private final CallView call = new CallView();
  private final StreamCreditView credit = new StreamCreditView();
  private ContextInternal context;
  private NetServer server;
  private NetServer localServer;

  public ActorRuntime(Vertx vertx, String actorId, String actorType, String nodeId, Buffer args, List<Integer> gpuIds,
                      Slot slot, int maxFrameSize) {
    this.vertx = vertx;
    this.actorId = actorId;
    this.actorType = actorType;
    this.nodeId = nodeId;
    this.args = args;
    this.gpuIds = List.copyOf(gpuIds);
    this.slot = slot;
    this.maxFrameSize = maxFrameSize;
  }

  // ------------------------------------------------------------------ ActorContext

  @Override
  public String actorId() {
    return actorId;
  }

  @Override
  public String actorType() {
    return actorType;
  }

  @Override
  public String nodeId() {
    return nodeId;
  }

  @Override
  public Buffer args() {
    return args;
  }

  @Override
  public List<Integer> gpuIds() {
    return gpuIds;
  }

  @Override
  public Slot slot() {
    return slot;
  }

  @Override
  public Vertx vertx() {
    return vertx;
  }

  @Override
  public int push(int mailbox, Buffer data) {
    if (!onActorLoop()) {
      int count = subscribers(mailbox);
      context.runOnContext(v -> push(mailbox, data));
      return count;
    }
    Set<Connection> targets = subscribers.get(mailbox);
    if (targets == null) {
      return 0;
    }
    for (Connection connection : targets) {
      connection.push(mailbox, 0, data);
    }
    return targets.size();
  }

  @Override
  public <T> int push(int mailbox, T value, Serializer<T> serializer) {
    if (!onActorLoop()) {
      int count = subscribers(mailbox);
      context.runOnContext(v -> push(mailbox, value, serializer));
      return count;
    }
    Set<Connection> targets = subscribers.get(mailbox);
    if (targets == null) {
      return 0;
    }
    for (Connection connection : targets) {
      connection.push(mailbox, 0, serializer, value);
    }
    return targets.size();
  }

  @Override
  public int subscribers(int mailbox) {
    Set<Connection> targets = subscribers.get(mailbox);
    return targets == null ? 0 : targets.size();
  }

  private boolean onActorLoop() {
    if (context == null) {
      throw new IllegalStateException("actor " + actorId + " has not started");
    }
    return context.inThread();
  }

  // ------------------------------------------------------------------ MethodRegistry

  @Override
  public void starting(Context context) {
    this.context = (ContextInternal) context;
  }

  @Override
  public void register(int methodId, MethodHandler handler, boolean blocking) {
    add(new MethodEntry(methodId, null, blocking ? Kind.BLOCKING : Kind.CALL, handler, null, null));
  }

  @Override
  public void register(int methodId, MethodHandler handler, Serializer<?> responseSerializer) {
    add(new MethodEntry(methodId, null, Kind.CALL, handler, responseSerializer, null));
  }

  @Override
  public void method(int id, String name, MethodHandler handler, Serializer<?> resultSerializer) {
    add(new MethodEntry(id, name, Kind.CALL, handler, resultSerializer, null));
  }

  @Override
  public void oneWay(int id, String name, MethodHandler handler) {
    add(new MethodEntry(id, name, Kind.ONE_WAY, handler, null, null));
  }

  @Override
  public <T> void stream(int id, String name, StreamHandler<T> handler, Serializer<T> itemSerializer) {
    add(new MethodEntry(id, name, Kind.STREAM, null, itemSerializer, handler));
  }

  private void add(MethodEntry entry) {
    MethodEntry existing = methods.get(entry.id);
    if (existing != null) {
      throw new IllegalArgumentException("method id " + entry.id + " (0x" + Integer.toHexString(entry.id) + ") is registered twice on"
        + " actor type " + actorType + (entry.name != null || existing.name != null ? ": by " + existing.describe() + " and " + entry.describe()
        : ""));
    }
    methods.put(entry.id, entry);
  }

  /** Registered method ids, for messages. */
  String methodList() {
    int[] ids = methods.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
    return ids.length == 0 ? "none" : Arrays.stream(ids).mapToObj(id -> methods.get(id).describe())
      .collect(Collectors.joining(", "));
  }

  // ------------------------------------------------------------------ call listener

  /**
   * Starts the call listener on the actor's event loop, with TLS when {@code security} says so; every
   * connection (and RDMA link) must prove {@code auth}'s token. Completes with the bound port.
   */
  public Future<Integer> listen(String host, int port, ClusterAuth auth, SecurityOptions security) {
    Promise<Integer> promise = Promise.promise();
    context.runOnContext(v -> {
      this.auth = auth;
      server = vertx.createNetServer(security.applyTo(new NetServerOptions()).setHost(host).setPort(port).setTcpNoDelay(true));
      server.connectHandler(socket -> Connection.accept(socket, maxFrameSize, "actor " + actorId, auth, this::accept));
      server.listen().map(NetServer::actualPort).onComplete(promise);
    });
    return promise.future();
  }

  /**
   * Also listens on a Unix domain socket at {@code path}, for clients on this host: the same calls, with the same
   * handshake (the actor id and the cluster token), without TCP's loopback path through the kernel's network stack.
   * Call after {@link #listen}. Completes with {@code path}, or with {@code null} when the socket cannot be opened
   * (the path is taken, the transport has no Unix sockets): the actor is then reached over TCP only.
   */
  public Future<String> listenLocal(String path) {
    Promise<String> promise = Promise.promise();
    context.runOnContext(v -> {
      // No TLS here: the socket is a file in a directory only the agent's user can enter, and never leaves the host.
      localServer = vertx.createNetServer(new NetServerOptions());
      localServer.connectHandler(socket -> Connection.accept(socket, maxFrameSize, "actor " + actorId, auth, this::accept));
      localServer.listen(SocketAddress.domainSocketAddress(path))
        .<String>transform(ar -> {
          if (ar.succeeded()) {
            return Future.succeededFuture(path);
          }
          log.warn("Actor {} listens on TCP only: it could not open the Unix socket {}: {}", actorId, path, ar.cause().toString());
          localServer = null;
          return Future.succeededFuture(null);
        })
        .onComplete(promise);
    });
    return promise.future();
  }

  /** Closes the listeners and every client connection. */
  public Future<Void> close() {
    Promise<Void> promise = Promise.promise();
    context.runOnContext(v -> {
      for (Connection connection : new ArrayList<>(connections)) {
        connection.close();
      }
      Future<Void> local = localServer == null ? Future.succeededFuture() : localServer.close();
      Future<Void> tcp = server == null ? Future.succeededFuture() : server.close();
      Future.join(local, tcp).<Void>mapEmpty().onComplete(promise);
    });
    return promise.future();
  }

  private Future<MessageHandler> accept(Connection connection, PeerHello hello) {
    if (hello.role() != Role.Client) {
      return Future.failedFuture(new ProtocolException("actor hosts accept client connections only"));
    }
    if (!actorId.equals(hello.target())) {
      return Future.failedFuture(new ActorNotFoundException("this process runs actor '" + actorId + "', not '"
        + hello.target() + "': the actor was stopped and its port reused"));
    }
    connections.add(connection);
    connection.attachment(new ClientState());
    connection.closeHandler(this::onClosed);
    return Future.succeededFuture(this::onMessage);
  }

  /** What the runtime keeps per client connection. */
  private static final class ClientState {

    final Set<Integer> mailboxes = new LinkedHashSet<>();
    final LongObjectHashMap<StreamPump> streams = new LongObjectHashMap<>();
    /** RDMA connections opened through this (TCP) connection: they live no longer than it. */
    final List<Connection> rdma = new ArrayList<>(1);
  }

  private void onClosed(Connection connection) {
    connections.remove(connection);
    ClientState state = connection.attachment();
    for (Connection rdma : new ArrayList<>(state.rdma)) {
      rdma.close();
    }
    for (StreamPump pump : new ArrayList<>(state.streams.values())) {
      pump.cancel();
    }
    for (int mailbox : state.mailboxes) {
      Set<Connection> targets = subscribers.get(mailbox);
      if (targets != null) {
        targets.remove(connection);
        if (targets.isEmpty()) {
          subscribers.remove(mailbox);
        }
      }
    }
  }

  private void onMessage(Connection connection, Frame frame) {
    switch (frame.bodyType()) {
      case Body.Call:
        onCall(connection, frame);
        break;
      case Body.Subscribe:
        subscribe(connection, ((Subscribe) frame.header().body(new Subscribe())).mailbox(), frame.id());
        frame.release();
        break;
      case Body.Unsubscribe:
        unsubscribe(connection, ((Unsubscribe) frame.header().body(new Unsubscribe())).mailbox(), frame.id());
        frame.release();
        break;
      case Body.RdmaConnect:
        onRdmaConnect(connection, frame);
        break;
      case Body.StreamCredit:
        // Read before the release: the view reads the frame's buffer.
        StreamCreditView credit = this.credit.read(frame);
        long streamId = credit.stream();
        boolean cancel = credit.cancel();
        long granted = credit.credit();
        frame.release();
        StreamPump pump = ((ClientState) connection.attachment()).streams.get(streamId);
        if (pump != null) {
          if (cancel) {
            pump.cancel();
          } else {
            pump.grant(granted);
          }
        }
        break;
      default:
        long id = frame.id();
        byte type = frame.bodyType();
        frame.release();
        connection.replyError(id, ErrorCode.Protocol, "actor hosts do not handle message type " + type, null, Body.NONE, 0);
        connection.close();
    }
  }

  /**
   * A client asks for an RDMA link: start UCX (once per process), open this end towards the client's worker,
   * serve it like a socket connection (the client says hello over it), and answer with this end's address.
   */
  private void onRdmaConnect(Connection connection, Frame frame) {
    long id = frame.id();
    RdmaConnect request = (RdmaConnect) frame.header().body(new RdmaConnect());
    byte[] peerAddress = Messages.bytes(request.workerAddressAsByteBuffer());
    long peerLink = request.link();
    frame.release();
    if (!(connection.link() instanceof SocketLink) || peerAddress.length == 0) {
      connection.replyError(id, ErrorCode.Protocol, peerAddress.length == 0 ? "RdmaConnect without a worker address"
        : "RdmaConnect must come over the TCP connection", null, Body.NONE, 0);
      return;
    }
    ClientState state = connection.attachment();
    RdmaSupport.start(context).compose(links -> {
      RdmaLink link = links.newLink();
      return link.connect(peerAddress, peerLink, "client " + connection.peerName())
        .map(v -> {
          if (connection.isClosed()) {
            link.close();
            throw new UnavailableException("the client's connection closed during the RDMA handshake");
          }
          Connection.accept(link, RdmaSupport.MAX_FRAME_SIZE, "actor " + actorId, auth, (rdma, hello) -> {
            state.rdma.add(rdma);
            Future<MessageHandler> accepted = accept(rdma, hello);
            rdma.closeHandler(c -> {
              state.rdma.remove(c);
              onClosed(c);
            });
            return accepted;
          });
          return links.workerAddress();
        })
        .onFailure(err -> link.close())
        .map(localAddress -> {
          FlatBufferBuilder b = connection.builder();
          int addressOffset = RdmaAccept.createWorkerAddressVector(b, localAddress);
          connection.reply(id, Body.RdmaAccept, RdmaAccept.createRdmaAccept(b, addressOffset, link.id()), null);
          return null;
        });
    }).onFailure(err -> {
      log.info("RDMA link for {} refused: {}", connection.peerName(), err.getMessage());
      connection.replyFailure(id, err);
    });
  }

  private void subscribe(Connection connection, int mailbox, long id) {
    subscribers.computeIfAbsent(mailbox, k -> new LinkedHashSet<>()).add(connection);
    ((ClientState) connection.attachment()).mailboxes.add(mailbox);
    connection.reply(id, Body.NONE, 0, null);
  }

  private void unsubscribe(Connection connection, int mailbox, long id) {
    Set<Connection> targets = subscribers.get(mailbox);
    if (targets != null) {
      targets.remove(connection);
      if (targets.isEmpty()) {
        subscribers.remove(mailbox);
      }
    }
    ((ClientState) connection.attachment()).mailboxes.remove(mailbox);
    connection.reply(id, Body.NONE, 0, null);
  }

  private void onCall(Connection connection, Frame frame) {
    long id = frame.id();
    CallView header = call.read(frame);
    int methodId = header.method();
    boolean oneway = header.oneway();
    long streamId = header.stream();
    long credit = header.credit();
    MethodEntry method = methods.get(methodId);
    String refusal = null;
    short code = ErrorCode.UnknownMethod;
    if (method == null) {
      refusal = "actor '" + actorId + "' (" + actorType + ") has no method " + methodId + " (0x" + Integer.toHexString(methodId)
        + "); its methods are " + methodList();
    } else if ((streamId != 0) != (method.kind == Kind.STREAM)) {
      code = ErrorCode.InvalidArgument;
      refusal = method.describe() + " of actor '" + actorId + "' " + (streamId != 0 ? "does not return a stream"
        : "returns a stream: call it with callStream");
    }
    if (refusal != null) {
      frame.release();
      if (oneway) {
        log.warn("One-way call refused: {}", refusal);
      } else {
        connection.replyError(id, code, refusal, null, Body.NONE, 0);
      }
      return;
    }
    MessageViewImpl view = new MessageViewImpl(frame, methodId);
    if (method.kind == Kind.STREAM) {
      startStream(connection, frame, id, streamId, credit, method, view);
      return;
    }
    if (method.kind == Kind.BLOCKING) {
      context.executeBlocking(() -> method.handler.handle(view), false)
        .onComplete(ar -> complete(connection, id, oneway, method, ar.succeeded() ? ar.result() : null, ar.cause(), frame));
      return;
    }
    Object result;
    try {
      result = method.handler.handle(view);
    } catch (Throwable failure) {
      complete(connection, id, oneway, method, null, failure, frame);
      rethrowIfFatal(failure);
      return;
    }
    if (result instanceof Future) {
      ((Future<?>) result).onComplete(ar -> complete(connection, id, oneway, method, ar.succeeded() ? ar.result() : null, ar.cause(),
        frame));
    } else {
      complete(connection, id, oneway, method, result, null, frame);
    }
  }

  /** Sends the outcome of a call (none for one-way calls) and releases its frame. */
  private void complete(Connection connection, long id, boolean oneway, MethodEntry method, Object value, Throwable failure,
                        Frame frame) {
    try {
      if (oneway || method.kind == Kind.ONE_WAY) {
        if (failure != null) {
          log.warn("One-way {} of actor {} failed", method.describe(), actorId, failure);
        } else if (!oneway) {
          connection.reply(id, Body.NONE, 0, null);
        }
      } else if (failure != null) {
        replyFailure(connection, id, failure);
      } else {
        replyValue(connection, id, method, value);
      }
    } finally {
      frame.release();
    }
  }

  private void startStream(Connection connection, Frame frame, long id, long streamId, long credit, MethodEntry method,
                           MessageViewImpl view) {
    ClientState state = connection.attachment();
    if (state.streams.containsKey(streamId)) {
      frame.release();
      connection.replyError(id, ErrorCode.Protocol, "stream " + streamId + " is already open on this connection", null, Body.NONE, 0);
      return;
    }
    ReadStream<?> source;
    try {
      source = method.streamHandler.handle(view);
      if (source == null) {
        throw new NullPointerException(method.describe() + " returned a null stream");
      }
    } catch (Throwable failure) {
      frame.release();
      replyFailure(connection, id, failure);
      rethrowIfFatal(failure);
      return;
    }
    StreamPump pump = new StreamPump(connection, state, id, streamId, method, source, frame);
    state.streams.put(streamId, pump);
    pump.start(credit);
  }

  /**
   * Sends the items of a stream to its caller, reading the source only as fast as the caller's credit
   * allows; the source's end or failure is the reply to the call. The request frame is held (its views may
   * be used by the source) until the stream ends.
   */
  private final class StreamPump {

    final Connection connection;
    final ClientState state;
    final long requestId;
    final long streamId;
    final MethodEntry method;
    final ReadStream<Object> source;
    final Frame request;
    boolean done;

    @SuppressWarnings("unchecked")
    StreamPump(Connection connection, ClientState state, long requestId, long streamId, MethodEntry method, ReadStream<?> source,
               Frame request) {
      this.connection = connection;
      this.state = state;
      this.requestId = requestId;
      this.streamId = streamId;
      this.method = method;
      this.source = (ReadStream<Object>) source;
      this.request = request;
    }

    @SuppressWarnings("unchecked")
    void start(long credit) {
      source.pause();
      source.exceptionHandler(err -> finish(err));
      source.endHandler(v -> finish(null));
      Serializer<Object> serializer = (Serializer<Object>) method.responseSerializer;
      source.handler(item -> {
        if (done) {
          return;
        }
        try {
          connection.push(0, streamId, serializer, item);
        } catch (RuntimeException e) {
          finish(e);
        }
      });
      grant(credit);
    }

    void grant(long credit) {
      if (!done && credit > 0) {
        source.fetch(credit);
      }
    }

    void finish(Throwable failure) {
      if (done) {
        return;
      }
      done = true;
      state.streams.remove(streamId);
      request.release();
      if (failure == null) {
        connection.reply(requestId, Body.NONE, 0, null);
      } else {
        replyFailure(connection, requestId, failure);
      }
    }

    /** The caller wants no more, or is gone: stop reading the source, and let the source know. */
    void cancel() {
      if (done) {
        return;
      }
      done = true;
      state.streams.remove(streamId);
      source.pause();
      source.handler(null);
      request.release();
      connection.reply(requestId, Body.NONE, 0, null);
    }
  }

  @SuppressWarnings("unchecked")
  private void replyValue(Connection connection, long id, MethodEntry method, Object value) {
    try {
      if (method.responseSerializer != null) {
        connection.reply(id, (Serializer<Object>) method.responseSerializer, value);
      } else if (value == null) {
        connection.reply(id, Body.NONE, 0, null);
      } else if (value instanceof Buffer) {
        connection.reply(id, Body.NONE, 0, (Buffer) value);
      } else {
        connection.reply(id, Serializers.forValue(value), value);
      }
    } catch (FrameTooLargeException e) {
      connection.replyError(id, ErrorCode.FrameTooLarge, "the result of " + method.describe() + " of actor '" + actorId
        + "' is too large: " + e.getMessage(), null, Body.NONE, 0);
    } catch (SerializationException e) {
      connection.replyError(id, ErrorCode.Serialization, "actor '" + actorId + "' could not serialize the result of "
        + method.describe() + ": " + e.getMessage(), null, Body.NONE, 0);
    } catch (RuntimeException e) {
      connection.replyError(id, ErrorCode.Serialization, "actor '" + actorId + "' could not serialize the result of "
        + method.describe() + ": " + e, null, Body.NONE, 0);
    }
  }

  private void replyFailure(Connection connection, long id, Throwable failure) {
    log.debug("Method of actor {} failed", actorId, failure);
    connection.replyError(id, ErrorCode.RemoteFailure, failure.getMessage(), failure.getClass().getName(), Body.NONE, 0);
  }

  private static void rethrowIfFatal(Throwable failure) {
    if (failure instanceof VirtualMachineError) {
      throw (VirtualMachineError) failure;
    }
  }

  /** Number of open client connections. */
  public int connectionCount() {
    return connections.size();
  }

  enum Kind { CALL, BLOCKING, ONE_WAY, STREAM }

  static final class MethodEntry {

    final int id;
    final String name;
    final Kind kind;
    final MethodHandler handler;
    /** The result's serializer, or the items' for a stream; {@code null}: by the result's runtime class. */
    final Serializer<?> responseSerializer;
    final StreamHandler<?> streamHandler;

    MethodEntry(int id, String name, Kind kind, MethodHandler handler, Serializer<?> responseSerializer, StreamHandler<?> streamHandler) {
      this.id = id;
      this.name = name;
      this.kind = kind;
      this.handler = handler;
      this.responseSerializer = responseSerializer;
      this.streamHandler = streamHandler;
    }

    String describe() {
      return (name != null ? name + " " : "method ") + id + " (0x" + Integer.toHexString(id) + ")";
    }
  }

  @Override
  public String toString() {
    return "ActorRuntime[" + actorId + ", " + actorType + "]";
  }
}
