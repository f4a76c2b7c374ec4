// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor.impl;

import io.spoke.vertx.ActorNotFoundException;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.actor.ActorContext;
import io.spoke.vertx.actor.MethodHandler;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.internal.net.Acceptor;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.internal.net.MessageHandler;
import io.spoke.vertx.protocol.ActorHostCodec;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.serialization.Serializer;
import io.spoke.vertx.service.ServiceRegistry;
import io.spoke.vertx.service.StreamHandler;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.SocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Runs one actor in its host: its call listener (clients connect here directly, not through the agent or the hub)
 * and its client connections, whose messages it hands to the {@link CallDispatcher} (calls and stream credits, with
 * the {@link MethodTable}), the {@link Mailboxes} (subscriptions and pushes) and the {@link RdmaUpgrade}. Everything
 * happens on the actor's event loop.
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
  private final java.util.Map<String, String> env;
  private final MethodTable methods;
  private final CallDispatcher calls;
  private final Mailboxes mailboxes = new Mailboxes();
  private final RdmaUpgrade rdma;
  /** Accepts a client's hello, on a socket or on an RDMA link. */
  private final Acceptor clients = (connection, hello) -> accept(connection, hello.role(), hello.target());
  private final Set<Connection> connections = new HashSet<>();
  private ContextInternal context;
  private NetServer server;
  private NetServer localServer;

  public ActorRuntime(Vertx vertx, String actorId, String actorType, String nodeId, Buffer args, List<Integer> gpuIds,
                      Slot slot, int maxFrameSize, java.util.Map<String, String> env) {
    this.vertx = vertx;
    this.actorId = actorId;
    this.actorType = actorType;
    this.nodeId = nodeId;
    this.args = args;
    this.gpuIds = List.copyOf(gpuIds);
    this.slot = slot;
    this.maxFrameSize = maxFrameSize;
    this.env = java.util.Map.copyOf(env);
    this.methods = new MethodTable(actorType);
    this.calls = new CallDispatcher(actorId, actorType, methods);
    this.rdma = new RdmaUpgrade(actorId, clients, this::onClosed);
  }

  // ------------------------------------------------------------------ ActorContext

  @Override
  public String actorId() {
    return actorId;
  }

  @Override
  public java.util.Map<String, String> env() {
    return env;
  }

  /** Without the variables its host was launched with (its secret, its agent, a warm host's name and socket). */
  @Override
  public ProcessBuilder processBuilder(String... command) {
    ProcessBuilder builder = new ProcessBuilder(command);
    java.util.Map<String, String> childEnv = builder.environment();
    io.spoke.vertx.internal.ActorHostLaunch.hostOnly().forEach(childEnv::remove);
    childEnv.putAll(env);
    return builder;
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
    return mailboxes.push(mailbox, data);
  }

  @Override
  public <T> int push(int mailbox, T value, Serializer<T> serializer) {
    if (!onActorLoop()) {
      int count = subscribers(mailbox);
      context.runOnContext(v -> push(mailbox, value, serializer));
      return count;
    }
    return mailboxes.push(mailbox, value, serializer);
  }

  @Override
  public int subscribers(int mailbox) {
    return mailboxes.subscribers(mailbox);
  }

  private boolean onActorLoop() {
    if (context == null) {
      throw new IllegalStateException("actor " + actorId + " has not started");
    }
    return context.inThread();
  }

  /** A copy of its calls' counts so far. On the actor's event loop. */
  ActorHostCodec.CallStatsValue callStats() {
    return calls.callStats();
  }

  /** Runs {@code task} on the actor's event loop (at once, before the actor has started). */
  void runOnActorContext(Runnable task) {
    ContextInternal c = context;
    if (c == null) {
      task.run();
    } else {
      c.runOnContext(v -> task.run());
    }
  }

  // ------------------------------------------------------------------ MethodRegistry

  @Override
  public void starting(Context context) {
    this.context = (ContextInternal) context;
    calls.starting(this.context);
  }

  @Override
  public void register(int methodId, MethodHandler handler, boolean blocking) {
    methods.add(new MethodEntry(methodId, null, blocking ? MethodEntry.Kind.BLOCKING : MethodEntry.Kind.CALL, handler, null, null));
  }

  @Override
  public void register(int methodId, MethodHandler handler, Serializer<?> responseSerializer) {
    methods.add(new MethodEntry(methodId, null, MethodEntry.Kind.CALL, handler, responseSerializer, null));
  }

  @Override
  public void method(int id, String name, MethodHandler handler, Serializer<?> resultSerializer) {
    methods.add(new MethodEntry(id, name, MethodEntry.Kind.CALL, handler, resultSerializer, null));
  }

  @Override
  public void oneWay(int id, String name, MethodHandler handler) {
    methods.add(new MethodEntry(id, name, MethodEntry.Kind.ONE_WAY, handler, null, null));
  }

  @Override
  public <T> void stream(int id, String name, StreamHandler<T> handler, Serializer<T> itemSerializer) {
    methods.add(new MethodEntry(id, name, MethodEntry.Kind.STREAM, null, itemSerializer, handler));
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
      server.connectHandler(socket -> Connection.accept(socket, maxFrameSize, "actor " + actorId, auth, clients));
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
      localServer.connectHandler(socket -> Connection.accept(socket, maxFrameSize, "actor " + actorId, auth, clients));
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

  private Future<MessageHandler> accept(Connection connection, byte role, String target) {
    if (role != Role.Client) {
      return Future.failedFuture(new ProtocolException("actor hosts accept client connections only"));
    }
    if (!actorId.equals(target)) {
      return Future.failedFuture(new ActorNotFoundException("this process runs actor '" + actorId + "', not '"
        + target + "': the actor was stopped and its port reused"));
    }
    connections.add(connection);
    connection.attachment(new ClientState());
    connection.closeHandler(this::onClosed);
    return Future.succeededFuture(this::onMessage);
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
    mailboxes.closed(connection, state);
  }

  private void onMessage(Connection connection, Frame frame) {
    switch (frame.bodyType()) {
      case Body.Call:
        calls.onCall(connection, frame);
        break;
      case Body.Subscribe:
        mailboxes.onSubscribe(connection, frame);
        break;
      case Body.Unsubscribe:
        mailboxes.onUnsubscribe(connection, frame);
        break;
      case Body.RdmaConnect:
        rdma.onRdmaConnect(connection, frame, context, auth);
        break;
      case Body.StreamCredit:
        calls.onStreamCredit(connection, frame);
        break;
      default:
        long id = frame.id();
        byte type = frame.bodyType();
        frame.release();
        connection.replyError(id, ErrorCode.Protocol, "actor hosts do not handle message type " + type);
        connection.close();
    }
  }

  /** Number of open client connections. */
  public int connectionCount() {
    return connections.size();
  }

  @Override
  public String toString() {
    return "ActorRuntime[" + actorId + ", " + actorType + "]";
  }
}
