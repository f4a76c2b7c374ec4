// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import io.netty.buffer.ByteBuf;
import io.spoke.vertx.AuthenticationException;
import io.spoke.vertx.SpokeTimeoutException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.VersionMismatchException;
import io.spoke.vertx.protocol.ErrorCodes;
import io.spoke.vertx.protocol.Message;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.serialization.Serializer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;

/**
 * One Spoke connection: framing, the hello handshake, and multiplexed requests with correlation ids and
 * timeouts, in both directions, over one Vert.x socket ({@link SocketLink}) or another {@link FrameLink}.
 * Every method must be called on the connection's event loop ({@link #context()}); state is confined to it,
 * so there are no locks.
 * <p>
 * Frames are decoded by the link (in the Netty pipeline, for sockets) and handed over without a copy; replies are matched to their
 * request by id, and a request that outlives its timeout fails with {@link SpokeTimeoutException} (checked
 * every {@link #SWEEP_INTERVAL_MS} ms). When the connection closes, every request still waiting fails,
 * with {@link UnavailableException} unless the owner says otherwise in its {@link #closeHandler}.
 */
public final class Connection extends ConnectionBase {

  /** How often pending requests are checked for their deadline. */
  public static final long SWEEP_INTERVAL_MS = 50;

  /** How long a new connection may take to say hello. */
  public static final long HELLO_TIMEOUT_MS = 10_000;

  private long nextId = Handshake.HELLO_ID + 1;

  private Connection(FrameLink link) {
    super(link);
  }

  /**
   * Connects, answers the server's challenge with a hello (proving the cluster token, when {@code auth} has
   * one), and completes once the server has welcomed this connection (and, with a token, proven it holds it
   * too), on the caller's context; or fails with the server's refusal ({@link VersionMismatchException},
   * {@link AuthenticationException}) or {@link UnavailableException}. {@code hello} says who this side is and
   * whom it wants.
   */
  public static Future<Connection> connect(NetClient client, SocketAddress address, ClientHello hello) {
    ContextInternal ctx = ContextInternal.current();
    if (ctx == null) {
      return Future.failedFuture(new IllegalStateException("Connection.connect must be called on a Vert.x context"));
    }
    return client.connect(address)
      .recover(err -> Future.failedFuture(new UnavailableException("cannot connect to " + address + ": " + err.getMessage(), err)))
      .compose(so -> connect(new SocketLink(so, hello.maxFrameSize()), String.valueOf(address), hello));
  }

  /**
   * Says hello over an open link (an RDMA link, say); must be called on the context the link's handlers run
   * on. Otherwise as {@link #connect(NetClient, SocketAddress, ClientHello)}.
   */
  public static Future<Connection> connect(FrameLink link, String peerName, ClientHello hello) {
    Connection connection = new Connection(link);
    connection.peerName = peerName;
    return Handshake.client(connection, hello);
  }

  /**
   * Serves a connection accepted by a server: challenges it, waits for its hello, checks its proof of the
   * cluster token (when {@code auth} has one), asks {@code acceptor}, and welcomes or refuses it. Must be
   * called on the server's context, in its connect handler; {@code auth} should be the server's own
   * instance, which counts failed attempts per address.
   */
  public static void accept(NetSocket socket, int maxFrameSize, String serverName, ClusterAuth auth, Acceptor acceptor) {
    accept(new SocketLink(socket, maxFrameSize), maxFrameSize, serverName, auth, acceptor);
  }

  /** Serves a link opened by a peer (an RDMA link, say), as {@link #accept(NetSocket, int, String, ClusterAuth, Acceptor)}. */
  public static void accept(FrameLink link, int maxFrameSize, String serverName, ClusterAuth auth, Acceptor acceptor) {
    Connection connection = new Connection(link);
    connection.peerName = String.valueOf(link.remoteAddress());
    connection.guard = new SlowConsumerGuard(connection, link);
    Handshake.server(connection, maxFrameSize, serverName, auth, acceptor);
  }

  // ------------------------------------------------------------------ sending

  /**
   * Sends {@code message} (with {@code payload}, or {@code null}) as a request and completes with its decoded reply,
   * a typed failure, or {@link SpokeTimeoutException} after {@code timeoutMs}. {@code what} names the operation in
   * timeout messages ("spawn", "resolve").
   */
  public <T> Future<T> request(Message message, Buffer payload, long timeoutMs, String what, ReplyDecoder<T> decoder) {
    Promise<T> promise = context.promise();
    if (closed) {
      promise.fail(closedException());
      return promise.future();
    }
    long id = nextId++;
    ByteBuf buf;
    try {
      buf = encoder.encode(id, false, message, payload);
    } catch (RuntimeException e) {
      promise.fail(e);
      return promise.future();
    }
    registerPending(id, promise, decoder, what, timeoutMs);
    write(buf);
    return promise.future();
  }

  /**
   * Calls a method of the actor at the other end: the hot path. The argument is serialized straight into
   * the frame; the reply is read by {@code responseSerializer} from the receive buffer (or from a heap copy
   * when the serializer returns views, so that the value outlives the frame).
   */
  public <Q, R> Future<R> call(int methodId, Q request, Serializer<Q> requestSerializer, Serializer<R> responseSerializer,
                               long timeoutMs) {
    Promise<R> promise = context.promise();
    if (closed) {
      promise.fail(closedException());
      return promise.future();
    }
    long id = nextId++;
    ByteBuf buf;
    try {
      buf = encodeCall(id, methodId, false, 0, 0, request, requestSerializer);
    } catch (RuntimeException e) {
      promise.fail(e);
      return promise.future();
    }
    pending.add(id, promise, responseSerializer, null, timeoutMs, methodId);
    write(buf);
    return promise.future();
  }

  /**
   * Calls a method without waiting for, or getting, a reply: completes when the request is written to the
   * socket, or fails when it cannot be encoded or the connection is closed.
   */
  public <Q> Future<Void> callOneWay(int methodId, Q request, Serializer<Q> requestSerializer) {
    if (closed) {
      return context.failedFuture(closedException());
    }
    ByteBuf buf;
    try {
      buf = encodeCall(0, methodId, true, 0, 0, request, requestSerializer);
    } catch (RuntimeException e) {
      return context.failedFuture(e);
    }
    return link.write(buf);
  }

  /**
   * Calls a method whose result is a stream: its items arrive as Push frames of {@code streamId} (the
   * caller's message handler sees them), and the returned future completes when the stream ends, or fails
   * with its failure. The deadline is an idle timeout: {@link #extendDeadline} on each item.
   *
   * @return the request id, to extend its deadline; the outcome goes to {@code done}
   */
  public <Q> long callStream(int methodId, Q request, Serializer<Q> requestSerializer, long streamId, int credit, long idleTimeoutMs,
                             Promise<Void> done) {
    if (closed) {
      done.fail(closedException());
      return 0;
    }
    long id = nextId++;
    ByteBuf buf;
    try {
      buf = encodeCall(id, methodId, false, streamId, credit, request, requestSerializer);
    } catch (RuntimeException e) {
      done.fail(e);
      return 0;
    }
    pending.add(id, done, (ReplyDecoder<Void>) f -> null, null, idleTimeoutMs, methodId);
    write(buf);
    return id;
  }

  /** Pushes the deadline of pending request {@code id} to {@code timeoutMs} from now. */
  public void extendDeadline(long id, long timeoutMs) {
    pending.extendDeadline(id, timeoutMs);
  }

  private <Q> ByteBuf encodeCall(long id, int methodId, boolean oneway, long streamId, int credit, Q request,
                                 Serializer<Q> requestSerializer) {
    return encoder.encodeCall(id, methodId, oneway, streamId, credit, request, requestSerializer);
  }

  /** Pushes {@code data} to the peer's mailbox {@code mailbox}, or as an item of its stream {@code streamId}. */
  public void push(int mailbox, long streamId, Buffer data) {
    if (!closed) {
      write(encoder.encodePush(mailbox, streamId, data));
    }
  }

  /** Pushes a value that {@code serializer} writes into the frame. */
  public <T> void push(int mailbox, long streamId, Serializer<T> serializer, T value) {
    if (!closed) {
      write(encoder.encodePush(mailbox, streamId, serializer, value));
    }
  }

  /** Grants the actor {@code credit} more items of stream {@code streamId}, or cancels the stream. */
  public void sendStreamCredit(long streamId, int credit, boolean cancel) {
    if (!closed) {
      write(encoder.encodeStreamCredit(streamId, credit, cancel));
    }
  }

  /** Sends {@code message} one way (no reply), with {@code payload} or {@code null}. Failures to encode are thrown. */
  public void send(Message message, Buffer payload) {
    if (!closed) {
      write(encoder.encode(0, false, message, payload));
    }
  }

  /** Sends {@code message} one way, with a payload that {@code serializer} writes. */
  public <T> void send(Message message, Serializer<T> serializer, T value) {
    if (!closed) {
      write(encoder.encode(0, false, message, serializer, value));
    }
  }

  /** Replies to request {@code id} with {@code message} and {@code payload} (or {@code null}). */
  public void reply(long id, Message message, Buffer payload) {
    if (!closed) {
      write(encoder.encode(id, true, message, payload));
    }
  }

  /** Replies to request {@code id} with no body and {@code payload} or {@code null}: allocates nothing (the per-call path). */
  public void reply(long id, Buffer payload) {
    if (!closed) {
      write(encoder.encode(id, true, Body.NONE, 0, payload));
    }
  }

  /** Replies to request {@code id} with an error; {@code detail} (or {@code null}) may describe it further. */
  public void replyError(long id, short code, String message, String remoteClass, Message detail) {
    if (!closed) {
      write(encoder.encodeError(id, code, message, remoteClass, detail));
    }
  }

  /** Replies to request {@code id} with an error of {@code code} and {@code message}. */
  public void replyError(long id, short code, String message) {
    replyError(id, code, message, null, null);
  }

  /** Replies to request {@code id} with a value its serializer writes straight into the frame. */
  public <T> void reply(long id, Serializer<T> serializer, T value) {
    if (!closed) {
      write(encoder.encode(id, true, Body.NONE, 0, serializer, value));
    }
  }

  /** Replies to request {@code id} with a failure, keeping its type ({@link ErrorCodes}). */
  public void replyFailure(long id, Throwable failure) {
    replyError(id, ErrorCodes.codeOf(failure), ErrorCodes.describe(failure), null, null);
  }
}
