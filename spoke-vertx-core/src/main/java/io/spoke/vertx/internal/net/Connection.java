package io.spoke.vertx.internal.net;

import com.google.flatbuffers.FlatBufferBuilder;
import io.netty.buffer.ByteBuf;
import io.spoke.vertx.AuthenticationException;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.SpokeException;
import io.spoke.vertx.SpokeTimeoutException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.VersionMismatchException;
import io.spoke.vertx.protocol.ErrorCodes;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.FrameEncoder;
import io.spoke.vertx.protocol.Message;
import io.spoke.vertx.protocol.PeerHello;
import io.spoke.vertx.protocol.ProtocolVersion;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.serialization.Serializer;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

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
public final class Connection {

  private static final Logger log = LogManager.getLogger(Connection.class);

  /** How often pending requests are checked for their deadline. */
  public static final long SWEEP_INTERVAL_MS = 50;

  /** How long a new connection may take to say hello. */
  public static final long HELLO_TIMEOUT_MS = 10_000;


  /** When the last malformed message was logged at warn (any connection): a flood is logged once a second. */
  private static volatile long lastMalformedLog = System.nanoTime() - 2_000_000_000L;

  private final FrameLink link;
  private final ContextInternal context;
  private final FrameEncoder encoder;
  private final PendingRequests pending;
  private long nextId = Handshake.HELLO_ID + 1;
  private boolean established;
  private boolean closed;
  private boolean pendingFailureDeferred;
  /** Server side, until the first frame: whatever comes is taken as the hello (and refused if it is not one). */
  private boolean awaitingHello;
  /** Accepted by a server: holds reads from, or cuts off, a peer that does not read what it is sent. */
  private SlowConsumerGuard guard;
  private String peerName;
  private byte peerRole;
  private MessageHandler messageHandler;
  private Handler<Connection> closeHandler;
  private Object attachment;

  private Connection(FrameLink link) {
    this.link = link;
    this.context = ContextInternal.current();
    this.encoder = new FrameEncoder(link.alloc(), link::attaches);
    this.pending = new PendingRequests(this, context);
  }

  /** Starts reading, once the handshake's handlers are in place: a link may hand over frames that came first at once. */
  void startReading() {
    link.start(this::onMessage, v -> onClosed(), this::onException);
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

  void failHandshake(Throwable failure) {
    pending.fail(Handshake.HELLO_ID, failure);
    close();
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

  // ------------------------------------------------------------------ the handshake's hooks

  /** Sends a handshake message (not a request this side waits for, whatever its id). */
  void sendHandshake(long id, boolean reply, Message message) {
    write(encoder.encode(id, reply, message, null));
  }

  /** Server side: until {@code handler} has the first frame, whatever comes is taken as the hello. */
  void awaitHello(MessageHandler handler) {
    awaitingHello = handler != null;
    messageHandler = handler;
  }

  /** Server side: the peer's hello passed the checks; it names the peer and its largest frame. */
  void peerHello(PeerHello hello) {
    encoder.peerMaxFrameSize(clampFrameSize(hello.maxFrameSize()));
    peerRole = hello.role();
    if (hello.name() != null && !hello.name().isEmpty()) {
      peerName = hello.name() + " (" + link.remoteAddress() + ")";
    }
  }

  /**
   * The handshake is done: requests flow. {@code peerMaxFrameSize} (or -1 to keep it), {@code name} (or {@code null})
   * and {@code handler} (or {@code null}) are what the handshake learnt.
   */
  void welcomed(long peerMaxFrameSize, String name, MessageHandler handler) {
    if (peerMaxFrameSize >= 0) {
      encoder.peerMaxFrameSize(clampFrameSize(peerMaxFrameSize));
    }
    if (name != null) {
      peerName = name;
    }
    if (handler != null) {
      messageHandler = handler;
    }
    established = true;
  }

  private static int clampFrameSize(long size) {
    return (int) Math.max(ProtocolVersion.MIN_MAX_FRAME_SIZE, Math.min(Integer.MAX_VALUE, size));
  }

  <T> void registerPending(long id, Promise<T> promise, ReplyDecoder<T> decoder, String what, long timeoutMs) {
    pending.add(id, promise, decoder, what, timeoutMs);
  }

  void sendErrorAndClose(long id, Throwable failure) {
    if (closed) {
      return;
    }
    ByteBuf buf = encoder.encodeError(id, ErrorCodes.codeOf(failure), ErrorCodes.describe(failure), null, null);
    link.write(buf).onComplete(ar -> close());
  }

  // ------------------------------------------------------------------ receiving

  private void onMessage(Object message) {
    if (message instanceof Frame) {
      Frame frame = (Frame) message;
      if (closed) {
        frame.release();
      } else if (frame.isReply() && !awaitingHello) {
        try {
          onReply(frame);
        } catch (RuntimeException e) {
          onMalformed(frame, e);
        }
      } else if (messageHandler != null) {
        try {
          messageHandler.handle(this, frame);
        } catch (RuntimeException e) {
          onMalformed(frame, e);
        }
      } else {
        frame.release();
        sendErrorAndClose(0, new ProtocolException("request received before the handshake completed"));
      }
    } else if (message instanceof ProtocolException) {
      ProtocolException error = (ProtocolException) message;
      log.warn("Closing connection with {}: {}", peerName, error.getMessage());
      failPending(error);
      sendErrorAndClose(0, error);
    } else {
      io.netty.util.ReferenceCountUtil.release(message);
    }
  }

  /**
   * A handler threw on a message: the FlatBuffers runtime has no verifier, so a corrupt body shows as an index
   * (or other) exception where a field is read. The peer gets an error and the connection closes, since
   * nothing it sends afterwards can be trusted; the server goes on serving everyone else.
   */
  private void onMalformed(Frame frame, RuntimeException e) {
    long id = frame.isReply() ? 0 : frame.id();
    String type = Body.name(Math.max(0, Math.min(frame.bodyType(), Body.names.length - 1)));
    if (frame.refCnt() > 0) {
      frame.release();
    }
    long now = System.nanoTime();
    if (now - lastMalformedLog > 1_000_000_000L) {
      lastMalformedLog = now;
      log.warn("Closing connection with {}: its {} message could not be read ({}); more such within a second are logged at debug",
        peerName, type, e.toString());
    } else {
      log.debug("Closing connection with {}: its {} message could not be read", peerName, type, e);
    }
    sendErrorAndClose(id, new ProtocolException("malformed " + type + " message: " + e));
  }

  private void onReply(Frame frame) {
    long id = frame.id();
    if (id == 0) {
      // A connection-level error from the peer, which closes the connection after it.
      SpokeException error = ErrorCodes.toException(frame.header().code(), frame.header().message(), null, null);
      frame.release();
      log.debug("Connection error from {}: {}", peerName, error.getMessage());
      failPending(error);
      return;
    }
    pending.complete(id, frame);
  }

  // ------------------------------------------------------------------ sending

  /** The builder for the body of the next frame; cleared. Build the body, then call one send method. */
  public FlatBufferBuilder builder() {
    return encoder.builder();
  }

  /**
   * Sends a request and completes with its decoded reply, a typed failure, or {@link SpokeTimeoutException}
   * after {@code timeoutMs}. {@code what} names the operation in timeout messages ("spawn", "resolve").
   */
  public <T> Future<T> request(byte bodyType, int body, Buffer payload, long timeoutMs, String what, ReplyDecoder<T> decoder) {
    Promise<T> promise = context.promise();
    if (closed) {
      promise.fail(closedException());
      return promise.future();
    }
    long id = nextId++;
    ByteBuf buf;
    try {
      buf = encoder.encode(id, false, bodyType, body, payload);
    } catch (RuntimeException e) {
      promise.fail(e);
      return promise.future();
    }
    registerPending(id, promise, decoder, what, timeoutMs);
    write(buf);
    return promise.future();
  }

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

  /** Sends a one-way message (no reply). Failures to encode are thrown. */
  public void send(byte bodyType, int body, Buffer payload) {
    if (!closed) {
      write(encoder.encode(0, false, bodyType, body, payload));
    }
  }

  /** Sends a one-way message whose payload {@code serializer} writes. */
  public <T> void send(byte bodyType, int body, Serializer<T> serializer, T value) {
    if (!closed) {
      write(encoder.encode(0, false, bodyType, body, serializer, value));
    }
  }

  /** Replies to request {@code id} with a body (0 for none) and a payload (or {@code null}). */
  public void reply(long id, byte bodyType, int body, Buffer payload) {
    if (!closed) {
      write(encoder.encode(id, true, bodyType, body, payload));
    }
  }

  /** Replies to request {@code id} with a value its serializer writes straight into the frame. */
  public <T> void reply(long id, Serializer<T> serializer, T value) {
    if (!closed) {
      write(encoder.encode(id, true, Body.NONE, 0, serializer, value));
    }
  }

  /** Replies to request {@code id} with a failure, keeping its type ({@link ErrorCodes}). */
  public void replyFailure(long id, Throwable failure) {
    replyError(id, ErrorCodes.codeOf(failure), ErrorCodes.describe(failure), null, Body.NONE, 0);
  }

  /** Replies to request {@code id} with an error; the body (0 for none) may describe it further. */
  public void replyError(long id, short code, String message, String remoteClass, byte bodyType, int body) {
    if (!closed) {
      write(encoder.encode(id, true, code, message, remoteClass, bodyType, body));
    }
  }

  private void write(ByteBuf buf) {
    int size = buf.readableBytes();
    link.send(buf);
    if (guard != null) {
      guard.written(size);
    }
  }

  // ------------------------------------------------------------------ pending requests

  /** Fails every request still waiting for a reply. */
  public void failPending(Throwable failure) {
    pending.failAll(failure);
  }

  /** Number of requests waiting for a reply. */
  public int pendingCount() {
    return pending.size();
  }

  // ------------------------------------------------------------------ lifecycle

  private void onException(Throwable error) {
    log.debug("Connection with {} failed: {}", peerName, error.toString());
    close();
  }

  private void onClosed() {
    if (closed) {
      return;
    }
    closed = true;
    pending.stopSweeping();
    if (closeHandler != null) {
      closeHandler.handle(this);
    }
    if (!pendingFailureDeferred) {
      failPending(closedException());
    }
  }

  /**
   * Called from the {@link #closeHandler}: the owner will fail the pending requests itself, soon, with a
   * better reason than "connection closed" (e.g. once the actor's exit status is known).
   */
  public void deferPendingFailure() {
    pendingFailureDeferred = true;
  }

  private UnavailableException closedException() {
    return new UnavailableException("connection to " + peerName + " closed");
  }

  /** Closes the connection; pending requests fail (see {@link #closeHandler}). */
  public Future<Void> close() {
    Future<Void> f = link.close();
    onClosed();
    return f;
  }

  public boolean isClosed() {
    return closed;
  }

  /** Whether the handshake is complete. */
  public boolean isEstablished() {
    return established;
  }

  /**
   * Called once when the connection closes, before pending requests fail with {@link UnavailableException}:
   * the handler may fail them itself with a better reason ({@link #failPending}), now or, after
   * {@link #deferPendingFailure()}, later.
   */
  public Connection closeHandler(Handler<Connection> handler) {
    this.closeHandler = handler;
    return this;
  }

  /** Replaces the handler of requests and one-way messages (the one the acceptor gave, on servers). */
  public Connection messageHandler(MessageHandler handler) {
    this.messageHandler = handler;
    return this;
  }

  public ContextInternal context() {
    return context;
  }

  public String peerName() {
    return peerName;
  }

  /** {@link io.spoke.vertx.protocol.fb.Role} the peer announced in its hello (servers only). */
  public byte peerRole() {
    return peerRole;
  }

  public SocketAddress remoteAddress() {
    return link.remoteAddress();
  }

  public SocketAddress localAddress() {
    return link.localAddress();
  }

  /** What this connection runs over. */
  public FrameLink link() {
    return link;
  }

  /** Largest frame the peer accepts. */
  public int peerMaxFrameSize() {
    return encoder.peerMaxFrameSize();
  }

  /** Whether the socket's write queue is over its high-water mark. */
  public boolean writeQueueFull() {
    return link.writeQueueFull();
  }

  /** State an owner keeps with the connection. */
  @SuppressWarnings("unchecked")
  public <T> T attachment() {
    return (T) attachment;
  }

  public void attachment(Object attachment) {
    this.attachment = attachment;
  }

  @Override
  public String toString() {
    return "Connection[" + peerName + "]";
  }
}
