package io.spoke.vertx.internal.net;

import com.google.flatbuffers.FlatBufferBuilder;
import io.netty.buffer.ByteBuf;
import io.spoke.vertx.AuthenticationException;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.SpokeException;
import io.spoke.vertx.SpokeTimeoutException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.VersionMismatchException;
import io.spoke.vertx.protocol.ErrorCodes;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.FrameEncoder;
import io.spoke.vertx.protocol.Message;
import io.spoke.vertx.protocol.Messages;
import io.spoke.vertx.protocol.ProtocolVersion;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Challenge;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.spoke.vertx.protocol.fb.Hello;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.protocol.fb.Welcome;
import io.spoke.vertx.serialization.Serializer;
import io.spoke.vertx.serialization.Serializers;
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
  /** Answered pending entries kept for reuse, per connection: more than the calls usually in flight. */
  private static final int MAX_FREE_PENDING = 1024;

  /** How long a new connection may take to say hello. */
  public static final long HELLO_TIMEOUT_MS = 10_000;

  private static final long HELLO_ID = 1;

  static final long MIN_SLOW_CONSUMER_BYTES = 64L << 20;
  private static final long SLOW_CONSUMER_BYTES = Long.getLong("spoke.slowConsumerBytes", 0);

  /** When the last malformed message was logged at warn (any connection): a flood is logged once a second. */
  private static volatile long lastMalformedLog = System.nanoTime() - 2_000_000_000L;

  private final FrameLink link;
  private final ContextInternal context;
  private final FrameEncoder encoder;
  private final PendingMap<Pending> pending = new PendingMap<>();
  /** Answered entries, for the next calls; at most {@link #MAX_FREE_PENDING}. */
  private final java.util.ArrayDeque<Pending> freePending = new java.util.ArrayDeque<>();
  private long nextId = HELLO_ID + 1;
  private long sweepTimer = -1;
  private boolean established;
  private boolean closed;
  private boolean pendingFailureDeferred;
  /** Server side, until the first frame: whatever comes is taken as the hello (and refused if it is not one). */
  private boolean awaitingHello;
  /** Accepted by a server: holds reads from a peer that does not read its answers. */
  private boolean serving;
  private boolean readsHeld;
  /** The link's queue is past its high-water mark and the link cannot hold reads (an RDMA link): counting. */
  private boolean overfull;
  /** Bytes written since reads were held (or the queue overflowed): what waits for the peer beyond the high-water mark. */
  private long backlog;
  /** The largest frame of {@link #backlog}. */
  private int largestWaiting;
  private String peerName;
  private byte peerRole;
  private ClusterAuth auth;
  private byte[] challengeNonce;
  private byte[] helloNonce;
  private MessageHandler messageHandler;
  private Handler<Connection> closeHandler;
  private Object attachment;

  private Connection(FrameLink link) {
    this.link = link;
    this.context = ContextInternal.current();
    this.encoder = new FrameEncoder(link.alloc(), link::attaches);
  }

  /** Starts reading, once the handshake's handlers are in place: a link may hand over frames that came first at once. */
  private void startReading() {
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
    ContextInternal ctx = ContextInternal.current();
    Connection connection = new Connection(link);
    connection.peerName = peerName;
    connection.auth = hello.auth();
    Promise<Connection> promise = ctx.promise();
    connection.registerPending(HELLO_ID, promise, (ReplyDecoder<Connection>) connection::onWelcome, "handshake", hello.timeoutMs());
    connection.messageHandler = (conn, frame) -> {
      conn.messageHandler = null;
      try {
        conn.onChallenge(frame, hello);
      } catch (RuntimeException e) {
        conn.failHandshake(e);
      } finally {
        frame.release();
      }
    };
    connection.startReading();
    return promise.future().onFailure(err -> connection.close());
  }

  private void onChallenge(Frame frame, ClientHello hello) {
    if (frame.bodyType() != Body.Challenge) {
      throw new ProtocolException(peerName + " did not open with a challenge: it is not a Spoke server, or one older than protocol version "
        + ProtocolVersion.VERSION);
    }
    Challenge challenge = (Challenge) frame.header().body(new Challenge());
    if (challenge.magic() != ProtocolVersion.MAGIC) {
      throw new ProtocolException(peerName + " is not a Spoke server (bad magic 0x" + Long.toHexString(challenge.magic()) + ")");
    }
    if (challenge.version() != ProtocolVersion.VERSION) {
      throw new VersionMismatchException(peerName + " speaks Spoke protocol version " + challenge.version() + ", this process speaks version "
        + ProtocolVersion.VERSION + ": run the same Spoke release on both sides");
    }
    if (challenge.nonceLength() != ClusterAuth.NONCE_LENGTH) {
      throw new ProtocolException(peerName + " sent a challenge nonce of " + challenge.nonceLength() + " bytes, not " + ClusterAuth.NONCE_LENGTH);
    }
    if (challenge.tokenRequired() && !auth.hasToken()) {
      throw new AuthenticationException(peerName + " requires the cluster token, and this process has none: set " + SecurityOptions.ENV_TOKEN
        + " or a token file (--token-file, SecurityOptions.setTokenFile)");
    }
    challengeNonce = Messages.bytes(challenge.nonceAsByteBuffer());
    helloNonce = ClusterAuth.nonce();
    byte[] proof = auth.helloProof(challengeNonce, helloNonce);
    FlatBufferBuilder b = encoder.builder();
    int nameOffset = hello.name() == null ? 0 : b.createString(hello.name());
    int targetOffset = hello.target() == null ? 0 : b.createString(hello.target());
    int secretOffset = hello.secret() == null ? 0 : b.createString(hello.secret());
    int sessionOffset = hello.session() == null ? 0 : b.createString(hello.session());
    int nonceOffset = Hello.createNonceVector(b, helloNonce);
    int proofOffset = proof == null ? 0 : Hello.createProofVector(b, proof);
    int body = Hello.createHello(b, ProtocolVersion.MAGIC, ProtocolVersion.VERSION, hello.role(), nameOffset, targetOffset,
      secretOffset, hello.maxFrameSize(), sessionOffset, nonceOffset, proofOffset);
    write(encoder.encode(HELLO_ID, false, ErrorCode.None, null, null, Body.Hello, body));
  }

  private void failHandshake(Throwable failure) {
    Pending p = pending.remove(HELLO_ID);
    if (p != null) {
      p.fail(failure);
    }
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
    connection.auth = auth;
    connection.serving = true;
    String host = ClusterAuth.hostKey(link.remoteAddress());
    long blockedFor = auth.blockedFor(host, System.currentTimeMillis());
    if (blockedFor > 0) {
      connection.startReading();
      log.debug("Turning away {}: blocked for another {} ms after failed authentications", connection.peerName, blockedFor);
      connection.sendErrorAndClose(0, new AuthenticationException(serverName + " turns " + host + " away for another "
        + (blockedFor + 999) / 1000 + " s after repeated failed authentications: check its cluster token"));
      return;
    }
    connection.challengeNonce = ClusterAuth.nonce();
    FlatBufferBuilder b = connection.encoder.builder();
    int nonceOffset = Challenge.createNonceVector(b, connection.challengeNonce);
    int body = Challenge.createChallenge(b, ProtocolVersion.MAGIC, ProtocolVersion.VERSION, nonceOffset, auth.hasToken());
    connection.write(connection.encoder.encode(0, false, ErrorCode.None, null, null, Body.Challenge, body));
    long helloTimer = connection.context.setTimer(HELLO_TIMEOUT_MS, id -> {
      if (!connection.established && !connection.closed) {
        log.info("Closing connection from {}: no hello within {} ms", connection.peerName, HELLO_TIMEOUT_MS);
        connection.close();
      }
    });
    connection.awaitingHello = true;
    connection.messageHandler = (conn, frame) -> {
      connection.awaitingHello = false;
      connection.context.owner().cancelTimer(helloTimer);
      try {
        connection.onHello(frame, maxFrameSize, serverName, host, acceptor);
      } finally {
        frame.release();
      }
    };
    connection.startReading();
  }

  private void onHello(Frame frame, int maxFrameSize, String serverName, String host, Acceptor acceptor) {
    messageHandler = null;
    if (frame.bodyType() != Body.Hello || frame.isReply()) {
      refuse(frame.id(), new ProtocolException("expected a Hello as the first frame, got "
        + Body.name(Math.max(0, Math.min(frame.bodyType(), Body.names.length - 1)))));
      return;
    }
    Hello hello = (Hello) frame.header().body(new Hello());
    if (hello.magic() != ProtocolVersion.MAGIC) {
      refuse(frame.id(), new ProtocolException("not a Spoke peer (bad magic 0x" + Long.toHexString(hello.magic()) + ")"));
      return;
    }
    if (hello.version() != ProtocolVersion.VERSION) {
      refuse(frame.id(), new VersionMismatchException("peer speaks Spoke protocol version " + hello.version() + ", "
        + serverName + " speaks version " + ProtocolVersion.VERSION + ": run the same Spoke release on both sides"));
      return;
    }
    if (hello.nonceLength() != ClusterAuth.NONCE_LENGTH) {
      refuse(frame.id(), new ProtocolException("a Hello needs a nonce of " + ClusterAuth.NONCE_LENGTH + " bytes, got " + hello.nonceLength()));
      return;
    }
    helloNonce = Messages.bytes(hello.nonceAsByteBuffer());
    if (!ClusterAuth.matches(auth.helloProof(challengeNonce, helloNonce), hello.proofAsByteBuffer())) {
      boolean none = hello.proofLength() == 0;
      long blocked = auth.failed(host, System.currentTimeMillis());
      log.warn("Authentication failed: {} from {} {}{}", Role.name(Math.max(0, Math.min(hello.role(), Role.names.length - 1))), peerName,
        none ? "has no cluster token" : "proved another cluster token",
        blocked > 0 ? "; turning " + host + " away for " + blocked + " ms" : "");
      sendErrorAndClose(frame.id(), new AuthenticationException(serverName + " refused the connection: "
        + (none ? "it requires the cluster token; set " + SecurityOptions.ENV_TOKEN + " or a token file (--token-file)"
        : "the cluster token differs from this server's")));
      return;
    }
    auth.succeeded(host);
    long peerMax = hello.maxFrameSize();
    encoder.peerMaxFrameSize((int) Math.max(ProtocolVersion.MIN_MAX_FRAME_SIZE, Math.min(Integer.MAX_VALUE, peerMax)));
    peerRole = hello.role();
    if (hello.name() != null && !hello.name().isEmpty()) {
      peerName = hello.name() + " (" + link.remoteAddress() + ")";
    }
    long id = frame.id();
    Future<MessageHandler> accepted;
    try {
      accepted = acceptor.accept(this, hello);
    } catch (RuntimeException e) {
      accepted = Future.failedFuture(e);
    }
    accepted.onComplete(ar -> {
      if (closed) {
        return;
      }
      if (ar.failed()) {
        refuse(id, ar.cause());
        return;
      }
      messageHandler = ar.result();
      established = true;
      byte[] proof = auth.welcomeProof(challengeNonce, helloNonce);
      FlatBufferBuilder b = encoder.builder();
      int nameOffset = b.createString(serverName);
      int proofOffset = proof == null ? 0 : Welcome.createProofVector(b, proof);
      int body = Welcome.createWelcome(b, ProtocolVersion.VERSION, nameOffset, maxFrameSize, proofOffset);
      write(encoder.encode(id, true, ErrorCode.None, null, null, Body.Welcome, body));
    });
  }

  private Connection onWelcome(Frame frame) {
    if (frame.bodyType() != Body.Welcome) {
      throw new ProtocolException("expected a Welcome in answer to Hello from " + peerName);
    }
    Welcome welcome = (Welcome) frame.header().body(new Welcome());
    if (welcome.version() != ProtocolVersion.VERSION) {
      throw new VersionMismatchException(peerName + " speaks Spoke protocol version " + welcome.version()
        + ", this process speaks version " + ProtocolVersion.VERSION);
    }
    if (!ClusterAuth.matches(auth.welcomeProof(challengeNonce, helloNonce), welcome.proofAsByteBuffer())) {
      throw new AuthenticationException(peerName + " did not prove it holds the cluster token (it has none, or another one): "
        + "is it a server of this cluster?");
    }
    encoder.peerMaxFrameSize((int) Math.max(ProtocolVersion.MIN_MAX_FRAME_SIZE, Math.min(Integer.MAX_VALUE, welcome.maxFrameSize())));
    if (welcome.name() != null) {
      peerName = welcome.name() + " (" + link.remoteAddress() + ")";
    }
    established = true;
    return this;
  }

  /** Sends an error reply to the handshake and closes once it is written. */
  private void refuse(long id, Throwable failure) {
    log.info("Refusing connection from {}: {}", peerName, failure.getMessage());
    sendErrorAndClose(id, failure);
  }

  private void sendErrorAndClose(long id, Throwable failure) {
    if (closed) {
      return;
    }
    ByteBuf buf = encoder.encode(id, true, ErrorCodes.codeOf(failure), ErrorCodes.describe(failure), null, Body.NONE, 0);
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
    Pending p = pending.remove(id);
    if (p == null) {
      frame.release();
      return;
    }
    p.complete(frame);
    // Only now: completing ran the caller's callbacks, whose next call must not be given this entry.
    recycle(p);
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
    addPending(id, pendingEntry(promise, responseSerializer, null, deadline(timeoutMs), methodId));
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
    addPending(id, pendingEntry(done, (ReplyDecoder<Void>) f -> null, null, deadline(idleTimeoutMs), methodId));
    write(buf);
    return id;
  }

  /** Pushes the deadline of pending request {@code id} to {@code timeoutMs} from now. */
  public void extendDeadline(long id, long timeoutMs) {
    Pending p = pending.get(id);
    if (p != null) {
      p.deadline = deadline(timeoutMs);
    }
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
    if (!serving) {
      return;
    }
    if (overfull && !link.writeQueueFull()) {
      overfull = false;
      backlog = 0;
      largestWaiting = 0;
    }
    if (readsHeld || overfull) {
      // What the server sends unasked (pushes to a subscriber) is not held back by holding reads, and a link that
      // cannot hold reads (RDMA) holds back nothing: a peer that lets that much pile up beyond the high-water mark
      // is cut off, rather than let the server's memory grow without bound.
      backlog += size;
      largestWaiting = Math.max(largestWaiting, size);
      long limit = slowConsumerBytes();
      if (backlog > limit) {
        log.warn("Closing connection with {}: more than {} bytes wait for it: it does not read what it is sent", peerName, limit);
        close();
      }
    } else if (link.writeQueueFull()) {
      // A peer that sends requests and does not read the answers: stop reading its requests until it catches up,
      // so that its answers queue up to the high-water mark, not without bound.
      log.debug("Holding reads from {} until it reads what is queued for it", peerName);
      readsHeld = link.holdReadsUntilDrained(() -> {
        readsHeld = false;
        backlog = 0;
        largestWaiting = 0;
      });
      overfull = !readsHeld;
      backlog = 0;
      largestWaiting = 0;
    }
  }

  /**
   * Bytes that may wait for a peer beyond the high-water mark before it is cut off as a slow consumer: twice the
   * largest frame among them, at least {@value #MIN_SLOW_CONSUMER_BYTES} (system property {@code spoke.slowConsumerBytes}
   * overrides). Not the peer's largest possible frame: over RDMA that is 2 GiB, which would let a stalled peer hold
   * 4 GiB of the server's memory.
   */
  private long slowConsumerBytes() {
    return SLOW_CONSUMER_BYTES > 0 ? SLOW_CONSUMER_BYTES : Math.max(MIN_SLOW_CONSUMER_BYTES, 2L * largestWaiting);
  }

  // ------------------------------------------------------------------ pending requests

  private <T> void registerPending(long id, Promise<T> promise, ReplyDecoder<T> decoder, String what, long timeoutMs) {
    addPending(id, pendingEntry(promise, decoder, what, deadline(timeoutMs), 0));
  }

  /** An entry from the pool of answered ones, or a new one: a call allocates none in steady state. */
  private Pending pendingEntry(Promise<?> promise, Object decoder, String what, long deadline, int methodId) {
    Pending p = freePending.poll();
    return p == null ? new Pending(promise, decoder, what, deadline, methodId) : p.set(promise, decoder, what, deadline, methodId);
  }

  private void recycle(Pending p) {
    if (freePending.size() < MAX_FREE_PENDING) {
      freePending.push(p.set(null, null, null, 0, 0));
    }
  }

  private static long deadline(long timeoutMs) {
    return System.nanoTime() + timeoutMs * 1_000_000L;
  }

  private void addPending(long id, Pending p) {
    pending.put(id, p);
    if (sweepTimer < 0) {
      sweepTimer = context.setTimer(SWEEP_INTERVAL_MS, this::sweep);
    }
  }

  private void sweep(long timerId) {
    sweepTimer = -1;
    if (pending.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    for (Pending p : pending.removeIf(p -> now - p.deadline >= 0)) {
      p.fail(new SpokeTimeoutException(p.describe(peerName) + " got no answer within its timeout"));
    }
    if (!pending.isEmpty() && !closed) {
      sweepTimer = context.setTimer(SWEEP_INTERVAL_MS, this::sweep);
    }
  }

  /** Fails every request still waiting for a reply. */
  public void failPending(Throwable failure) {
    if (pending.isEmpty()) {
      return;
    }
    for (Pending p : pending.clear()) {
      p.fail(failure);
    }
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
    if (sweepTimer >= 0) {
      context.owner().cancelTimer(sweepTimer);
      sweepTimer = -1;
    }
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

  /** A request waiting for its reply. */
  private static final class Pending {

    Promise<Object> promise;
    Object decoder;
    String what;
    long deadline;
    int methodId;

    Pending(Promise<?> promise, Object decoder, String what, long deadline, int methodId) {
      set(promise, decoder, what, deadline, methodId);
    }

    @SuppressWarnings("unchecked")
    Pending set(Promise<?> promise, Object decoder, String what, long deadline, int methodId) {
      this.promise = (Promise<Object>) promise;
      this.decoder = decoder;
      this.what = what;
      this.deadline = deadline;
      this.methodId = methodId;
      return this;
    }

    String describe(String peer) {
      return what != null ? what + " (" + peer + ")" : "call of method " + methodId + " on " + peer;
    }

    @SuppressWarnings("unchecked")
    void complete(Frame frame) {
      Object value;
      try {
        short code = frame.header().code();
        if (code != ErrorCode.None) {
          fail(ErrorCodes.toException(code, frame.header().message(), frame.header().remoteClass(), null));
          return;
        }
        if (decoder instanceof Serializer) {
          Serializer<Object> serializer = (Serializer<Object>) decoder;
          value = serializer.readsView() ? serializer.read(frame.copyPayload()) : serializer.read(frame.payload());
        } else {
          value = ((ReplyDecoder<Object>) decoder).decode(frame);
        }
      } catch (RuntimeException e) {
        fail(e instanceof SpokeException ? e : new ProtocolException("cannot read the reply to " + describe("peer") + ": " + e, e));
        return;
      } finally {
        frame.release();
      }
      promise.tryComplete(value);
    }

    void fail(Throwable failure) {
      promise.tryFail(failure);
    }
  }
}
