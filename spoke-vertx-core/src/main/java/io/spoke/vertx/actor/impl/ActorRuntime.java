package io.spoke.vertx.actor.impl;

import com.google.flatbuffers.FlatBufferBuilder;
import io.netty.util.collection.IntObjectHashMap;
import io.spoke.vertx.ActorNotFoundException;
import io.spoke.vertx.FrameTooLargeException;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.SerializationException;
import io.spoke.vertx.actor.ActorContext;
import io.spoke.vertx.actor.MethodHandler;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.internal.net.MessageHandler;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Call;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.spoke.vertx.protocol.fb.Hello;
import io.spoke.vertx.protocol.fb.Push;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.protocol.fb.Subscribe;
import io.spoke.vertx.protocol.fb.Unsubscribe;
import io.spoke.vertx.serialization.Serializer;
import io.spoke.vertx.serialization.Serializers;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
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
public final class ActorRuntime implements ActorContext, MethodRegistry {

  private static final Logger log = LogManager.getLogger(ActorRuntime.class);

  private final Vertx vertx;
  private final String actorId;
  private final String actorType;
  private final String nodeId;
  private final Buffer args;
  private final List<Integer> gpuIds;
  private final Slot slot;
  private final int maxFrameSize;
  private final IntObjectHashMap<MethodEntry> methods = new IntObjectHashMap<>();
  private final IntObjectHashMap<Set<Connection>> subscribers = new IntObjectHashMap<>();
  private final Set<Connection> connections = new HashSet<>();
  private final Call call = new Call();
  private ContextInternal context;
  private NetServer server;

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
      FlatBufferBuilder b = connection.builder();
      connection.send(Body.Push, Push.createPush(b, mailbox), data);
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
      FlatBufferBuilder b = connection.builder();
      connection.send(Body.Push, Push.createPush(b, mailbox), serializer, value);
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
    add(new MethodEntry(methodId, handler, null, blocking));
  }

  @Override
  public void register(int methodId, MethodHandler handler, Serializer<?> responseSerializer) {
    add(new MethodEntry(methodId, handler, responseSerializer, false));
  }

  private void add(MethodEntry entry) {
    if (methods.containsKey(entry.id)) {
      throw new IllegalArgumentException("method id " + entry.id + " is registered twice on actor type " + actorType);
    }
    methods.put(entry.id, entry);
  }

  /** Registered method ids, for messages. */
  String methodList() {
    int[] ids = methods.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
    return ids.length == 0 ? "none" : Arrays.stream(ids).mapToObj(id -> id + " (0x" + Integer.toHexString(id) + ")")
      .collect(Collectors.joining(", "));
  }

  // ------------------------------------------------------------------ call listener

  /** Starts the call listener on the actor's event loop; completes with the bound port. */
  public Future<Integer> listen(String host, int port) {
    Promise<Integer> promise = Promise.promise();
    context.runOnContext(v -> {
      server = vertx.createNetServer(new NetServerOptions().setHost(host).setPort(port).setTcpNoDelay(true));
      server.connectHandler(socket -> Connection.accept(socket, maxFrameSize, "actor " + actorId, this::accept));
      server.listen().map(NetServer::actualPort).onComplete(promise);
    });
    return promise.future();
  }

  /** Closes the listener and every client connection. */
  public Future<Void> close() {
    Promise<Void> promise = Promise.promise();
    context.runOnContext(v -> {
      for (Connection connection : new ArrayList<>(connections)) {
        connection.close();
      }
      (server == null ? Future.<Void>succeededFuture() : server.close()).onComplete(promise);
    });
    return promise.future();
  }

  private Future<MessageHandler> accept(Connection connection, Hello hello) {
    if (hello.role() != Role.Client) {
      return Future.failedFuture(new ProtocolException("actor hosts accept client connections only"));
    }
    if (!actorId.equals(hello.target())) {
      return Future.failedFuture(new ActorNotFoundException("this process runs actor '" + actorId + "', not '"
        + hello.target() + "': the actor was stopped and its port reused"));
    }
    connections.add(connection);
    connection.attachment(new LinkedHashSet<Integer>());
    connection.closeHandler(this::onClosed);
    return Future.succeededFuture(this::onMessage);
  }

  private void onClosed(Connection connection) {
    connections.remove(connection);
    Set<Integer> mailboxes = connection.attachment();
    for (int mailbox : mailboxes) {
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
      default:
        long id = frame.id();
        byte type = frame.bodyType();
        frame.release();
        connection.replyError(id, ErrorCode.Protocol, "actor hosts do not handle message type " + type, null, Body.NONE, 0);
        connection.close();
    }
  }

  private void subscribe(Connection connection, int mailbox, long id) {
    subscribers.computeIfAbsent(mailbox, k -> new LinkedHashSet<>()).add(connection);
    Set<Integer> mailboxes = connection.attachment();
    mailboxes.add(mailbox);
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
    Set<Integer> mailboxes = connection.attachment();
    mailboxes.remove(mailbox);
    connection.reply(id, Body.NONE, 0, null);
  }

  private void onCall(Connection connection, Frame frame) {
    long id = frame.id();
    int methodId = ((Call) frame.header().body(call)).method();
    MethodEntry method = methods.get(methodId);
    if (method == null) {
      frame.release();
      connection.replyError(id, ErrorCode.UnknownMethod, "actor '" + actorId + "' (" + actorType + ") has no method "
        + methodId + " (0x" + Integer.toHexString(methodId) + "); its methods are " + methodList(), null, Body.NONE, 0);
      return;
    }
    MessageViewImpl view = new MessageViewImpl(frame, methodId);
    if (method.blocking) {
      context.executeBlocking(() -> method.handler.handle(view), false)
        .onComplete(ar -> {
          if (ar.succeeded()) {
            replyValue(connection, id, method, ar.result());
          } else {
            replyFailure(connection, id, ar.cause());
          }
          frame.release();
        });
      return;
    }
    Object result;
    try {
      result = method.handler.handle(view);
    } catch (Throwable failure) {
      replyFailure(connection, id, failure);
      frame.release();
      rethrowIfFatal(failure);
      return;
    }
    if (result instanceof Future) {
      ((Future<?>) result).onComplete(ar -> {
        if (ar.succeeded()) {
          replyValue(connection, id, method, ar.result());
        } else {
          replyFailure(connection, id, ar.cause());
        }
        frame.release();
      });
    } else {
      replyValue(connection, id, method, result);
      frame.release();
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
      connection.replyError(id, ErrorCode.FrameTooLarge, "the result of method " + method.id + " of actor '" + actorId
        + "' is too large: " + e.getMessage(), null, Body.NONE, 0);
    } catch (SerializationException e) {
      connection.replyError(id, ErrorCode.Serialization, "actor '" + actorId + "' could not serialize the result of method "
        + method.id + ": " + e.getMessage(), null, Body.NONE, 0);
    } catch (RuntimeException e) {
      connection.replyError(id, ErrorCode.Serialization, "actor '" + actorId + "' could not serialize the result of method "
        + method.id + ": " + e, null, Body.NONE, 0);
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

  static final class MethodEntry {

    final int id;
    final MethodHandler handler;
    final Serializer<?> responseSerializer;
    final boolean blocking;

    MethodEntry(int id, MethodHandler handler, Serializer<?> responseSerializer, boolean blocking) {
      this.id = id;
      this.handler = handler;
      this.responseSerializer = responseSerializer;
      this.blocking = blocking;
    }
  }

  @Override
  public String toString() {
    return "ActorRuntime[" + actorId + ", " + actorType + "]";
  }
}
