// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import io.netty.buffer.ByteBuf;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.SpokeException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.protocol.ErrorCodes;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.FrameEncoder;
import io.spoke.vertx.protocol.Message;
import io.spoke.vertx.protocol.PeerHello;
import io.spoke.vertx.protocol.ProtocolVersion;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Role;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.net.SocketAddress;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * What every {@link Connection} is below its requests: the link and its lifecycle, frames in (replies matched to
 * their request by {@link PendingRequests}, the rest to the message handler, malformed ones closing the connection),
 * frames out (through the {@link SlowConsumerGuard} on servers), and the hooks the {@link Handshake} sets the
 * connection up with. Confined to the connection's context.
 */
abstract sealed class ConnectionBase permits Connection {

  private static final Logger log = LogManager.getLogger(Connection.class);

  /** When the last malformed message was logged at warn (any connection): a flood is logged once a second. */
  private static volatile long lastMalformedLog = System.nanoTime() - 2_000_000_000L;

  final FrameLink link;
  final ContextInternal context;
  final FrameEncoder encoder;
  final PendingRequests pending;
  private boolean established;
  boolean closed;
  private boolean pendingFailureDeferred;
  /** Server side, until the first frame: whatever comes is taken as the hello (and refused if it is not one). */
  private boolean awaitingHello;
  /** Accepted by a server: holds reads from, or cuts off, a peer that does not read what it is sent. */
  SlowConsumerGuard guard;
  String peerName;
  private byte peerRole;
  private MessageHandler messageHandler;
  private Handler<Connection> closeHandler;
  private Object attachment;

  ConnectionBase(FrameLink link) {
    this.link = link;
    this.context = ContextInternal.current();
    this.encoder = new FrameEncoder(link.alloc(), link::attaches);
    this.pending = new PendingRequests(self(), context);
  }

  /** Starts reading, once the handshake's handlers are in place: a link may hand over frames that came first at once. */
  void startReading() {
    link.start(this::onMessage, v -> onClosed(), this::onException);
  }

  void failHandshake(Throwable failure) {
    pending.fail(Handshake.HELLO_ID, failure);
    close();
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
    ByteBuf buf = encoder.encodeError(id, ErrorCodes.codeOf(failure), ErrorCodes.describe(failure), null, ErrorCodes.detailOf(failure));
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
          messageHandler.handle(self(), frame);
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

  void write(ByteBuf buf) {
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
      closeHandler.handle(self());
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

  UnavailableException closedException() {
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
    return self();
  }

  /** Replaces the handler of requests and one-way messages (the one the acceptor gave, on servers). */
  public Connection messageHandler(MessageHandler handler) {
    this.messageHandler = handler;
    return self();
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

  private Connection self() {
    return (Connection) this;
  }
}
