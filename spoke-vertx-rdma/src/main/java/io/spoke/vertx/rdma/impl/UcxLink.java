// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.rdma.impl;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.util.collection.LongObjectHashMap;
import io.netty.util.internal.PlatformDependent;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.RdmaException;
import io.spoke.vertx.protocol.FrameDecoder;
import io.spoke.vertx.rdma.RegisteredMemory.Segment;
import io.spoke.vertx.spi.RdmaProvider.RdmaLink;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.openucx.jucx.UcxCallback;
import org.openucx.jucx.ucp.UcpConstants;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpRequest;

/**
 * One end of a Spoke connection over UCX: frames go out as active messages on an endpoint to the peer's
 * worker, and come in through the worker's handler ({@link FrameDemux}), which finds the link by the id in the
 * header.
 * <p>
 * Threads: the endpoint, sequence numbers and reordering belong to the progress thread; the handlers, and
 * the {@code closed} flag, to the link's Vert.x context. Received frames cross over through a queue that
 * one task on the context drains, so a burst of frames costs one hop.
 */
final class UcxLink implements RdmaLink {

  private static final Logger log = LogManager.getLogger(UcxLink.class);

  /** Bytes queued for sending beyond which {@link #writeQueueFull()} says so. */
  static final long HIGH_WATER_BYTES = 64L << 20;

  private final UcxRuntime ucx;
  private final long id;
  private final ContextInternal context;
  private final Queue<ByteBuf> inbox = PlatformDependent.newMpscQueue();
  private final AtomicBoolean draining = new AtomicBoolean();
  private final AtomicLong queuedBytes = new AtomicLong();
  private final AtomicBoolean failing = new AtomicBoolean();
  private final Runnable drain = this::drainInbox;
  private String peerName = "peer";
  private SocketAddress remoteAddress = SocketAddress.domainSocketAddress("ucx:peer");

  // guarded by this: set by the progress thread, used by sends, cleared when the link fails
  private UcpEndpoint endpoint;
  private volatile long peerId;
  // context: the sequence number of the next frame written
  private long sendSequence;
  // progress thread
  private long receiveSequence;
  private LongObjectHashMap<ByteBuf> early;
  private volatile boolean failed;

  // context
  private Handler<Object> messages;
  private Handler<Void> closedHandler;
  private boolean closed;
  private volatile RdmaException failure;

  UcxLink(UcxRuntime ucx, long id) {
    this.ucx = ucx;
    this.id = id;
    this.context = ContextInternal.current();
    if (context == null) {
      throw new IllegalStateException("an RDMA link must be created on a Vert.x context");
    }
  }

  @Override
  public long id() {
    return id;
  }

  @Override
  public Future<Void> connect(byte[] peerWorkerAddress, long peerLinkId, String peerName) {
    ByteBuffer address;
    try {
      address = ucx.peerAddress(peerWorkerAddress, peerName);
    } catch (RdmaException refused) {
      return context.failedFuture(refused);
    }
    this.peerName = peerName;
    this.remoteAddress = SocketAddress.domainSocketAddress("ucx:" + peerName);
    Promise<Void> promise = context.promise();
    ucx.execute(() -> {
      try {
        UcpEndpoint ep = ucx.newEndpoint(address, (e, status, message) -> fail(status, "UCX endpoint to " + peerName + " failed: "
          + message), "spoke-" + Long.toHexString(id));
        synchronized (this) {
          endpoint = ep;
          peerId = peerLinkId;
        }
        promise.complete();
      } catch (RuntimeException e) {
        promise.fail(UcsStatus.failure(UcsStatus.status(e), "cannot open a UCX endpoint to " + peerName + ": " + e.getMessage()));
      }
    });
    return promise.future();
  }

  // ------------------------------------------------------------------ FrameLink

  @Override
  public ByteBufAllocator alloc() {
    return ucx.memory().allocator();
  }

  /**
   * Payloads in registered memory (from {@code Rdma.buffer()}) are sent in place: the frame's header goes in the
   * active message's header, the payload is its data. Anything else is copied once into registered memory.
   */
  @Override
  public boolean attaches(ByteBuf payload) {
    RegisteredByteBuf registered = RegisteredByteBuf.registered(payload);
    return registered != null && registered.inSegment() && payload.hasMemoryAddress();
  }

  @Override
  public void start(Handler<Object> messages, Handler<Void> closed, Handler<Throwable> failures) {
    this.messages = messages;
    this.closedHandler = closed;
    if (!inbox.isEmpty() && draining.compareAndSet(false, true)) {
      context.execute(drain);
    }
  }

  /**
   * Not held: UCX delivers active messages as they come, with no read side to pause. A server's connection counts
   * what it writes while more than {@link #HIGH_WATER_BYTES} of sends wait for the peer, and cuts a peer that lets
   * too much pile up (it stopped, or does not progress its worker) off.
   */
  @Override
  public boolean holdReadsUntilDrained(Runnable resumed) {
    return false;
  }

  @Override
  public Future<Void> write(ByteBuf frame) {
    Promise<Void> promise = context.promise();
    submit(frame, promise);
    return promise.future();
  }

  @Override
  public void send(ByteBuf frame) {
    submit(frame, null);
  }

  private void submit(ByteBuf frame, Promise<Void> promise) {
    if (closed) {
      frame.release();
      if (promise != null) {
        promise.fail(closedFailure());
      }
      return;
    }
    int length = frame.readableBytes();
    queuedBytes.addAndGet(length);
    Send send = new Send(frame, length, promise);
    if (ucx.sendsDirectly()) {
      // The progress thread is idle (not holding the worker's lock): send from here, saving a thread hop.
      send.run();
    } else {
      // It is busy progressing (and holds the worker's spin lock while it does): hand the frame over rather than
      // spin on the lock on an event loop; it picks the frame up without being woken.
      ucx.execute(send);
    }
  }

  /**
   * One frame on its way out: prepared on the link's context (its registered segment, the header with the
   * peer's link id and the frame's sequence number, given in the order the connection wrote the frames), sent
   * from there or from the progress thread, then the completion callback (any thread).
   */
  private final class Send extends UcxCallback implements Runnable {

    private ByteBuf frame;
    private final int length;
    private final Promise<Void> promise;
    /** Holds the routing header (its headroom), and the frame or, for an in-place payload, the frame's header. */
    private final Segment segment;
    private final int headerLength;
    private final long dataAddress;
    private final int dataLength;

    Send(ByteBuf frame, int length, Promise<Void> promise) {
      this.length = length;
      this.promise = promise;
      RegisteredByteBuf inPlace = inPlaceHeader(frame);
      if (inPlace != null) {
        // The header (and routing) from the head's segment, the payload from the application's registered buffer.
        this.frame = frame;
        ByteBuf head = ((CompositeByteBuf) frame).component(0);
        ByteBuf body = ((CompositeByteBuf) frame).component(1);
        segment = inPlace.segment();
        headerLength = FrameDemux.AM_HEADER_SIZE + head.readableBytes();
        dataAddress = body.memoryAddress() + body.readerIndex();
        dataLength = body.readableBytes();
      } else {
        // The encoder's buffer, or Netty's leak-detection wrapper of it (for a sample of buffers).
        RegisteredByteBuf registered = RegisteredByteBuf.registered(frame);
        if (registered != null && registered.inSegment() && frame.readerIndex() == 0) {
          this.frame = frame;
        } else {
          // Not in registered memory (a writer outgrew its segment): copy it in, once.
          ByteBuf copy = ucx.memory().buffer(length);
          copy.writeBytes(frame, frame.readerIndex(), length);
          frame.release();
          this.frame = copy;
          registered = (RegisteredByteBuf) copy;
        }
        segment = registered.segment();
        headerLength = FrameDemux.AM_HEADER_SIZE;
        dataAddress = segment.dataAddress();
        dataLength = length;
      }
      PlatformDependent.putLong(segment.address(), peerId);
      PlatformDependent.putLong(segment.address() + 8, sendSequence++);
    }

    /** For a frame whose payload is attached in registered memory: the head's registered buffer, else null. */
    private RegisteredByteBuf inPlaceHeader(ByteBuf frame) {
      if (!(frame instanceof CompositeByteBuf) || ((CompositeByteBuf) frame).numComponents() != 2) {
        return null;
      }
      ByteBuf head = ((CompositeByteBuf) frame).component(0);
      ByteBuf body = ((CompositeByteBuf) frame).component(1);
      RegisteredByteBuf headBuf = RegisteredByteBuf.registered(head);
      if (headBuf == null || !headBuf.inSegment() || head.readerIndex() != 0 || head.memoryAddress() != headBuf.segment().dataAddress()
        || FrameDemux.AM_HEADER_SIZE + head.readableBytes() > ucx.maxAmHeaderSize() || !attaches(body)) {
        return null;
      }
      return headBuf;
    }

    @Override
    public void run() {
      long flags = dataLength >= FrameDemux.RNDV_THRESHOLD ? UcpConstants.UCP_AM_SEND_FLAG_RNDV : 0;
      UcpRequest request;
      synchronized (UcxLink.this) {
        // Under the link's lock: the progress thread takes the endpoint away (under it too) before closing it.
        if (endpoint == null || failed) {
          done(closedFailure());
          return;
        }
        try {
          request = endpoint.sendAmNonBlocking(FrameDemux.FRAME_AM_ID, segment.address(), headerLength, dataAddress, dataLength, flags,
            this, UcxRuntime.HOST_PARAMS);
        } catch (RuntimeException e) {
          done(UcsStatus.failure(UcsStatus.status(e), "sending to " + peerName + " failed: " + e.getMessage()));
          return;
        }
      }
      if (request != null && !request.isCompleted()) {
        ucx.wake();
      }
    }

    @Override
    public void onSuccess(UcpRequest request) {
      done(null);
    }

    @Override
    public void onError(int status, String message) {
      RdmaException error = UcsStatus.failure(status, "sending a frame of " + length + " bytes to " + peerName + " failed: " + message);
      done(error);
      fail(status, error.getMessage());
    }

    private void done(Throwable error) {
      queuedBytes.addAndGet(-length);
      ByteBuf sent = frame;
      frame = null;
      if (sent == null) {
        return;
      }
      sent.release();
      if (promise != null) {
        if (error == null) {
          promise.tryComplete();
        } else {
          promise.tryFail(error);
        }
      }
    }
  }

  @Override
  public Future<Void> close() {
    if (!closed) {
      closed = true;
      ucx.execute(() -> shutdown(false));
      Handler<Void> handler = closedHandler;
      if (handler != null) {
        handler.handle(null);
      }
    }
    return context.succeededFuture();
  }

  @Override
  public boolean writeQueueFull() {
    return queuedBytes.get() > HIGH_WATER_BYTES;
  }

  @Override
  public SocketAddress remoteAddress() {
    return remoteAddress;
  }

  @Override
  public SocketAddress localAddress() {
    return SocketAddress.domainSocketAddress("ucx:" + Long.toHexString(id));
  }

  // ------------------------------------------------------------------ receiving (progress thread)

  /** A whole frame arrived in {@code segment}; delivers it in sequence order. */
  void received(long sequence, Segment segment, int length) {
    ByteBuf buf = ucx.memory().wrapReceived(segment, length);
    if (failed) {
      buf.release();
      return;
    }
    if (sequence != receiveSequence) {
      if (early == null) {
        early = new LongObjectHashMap<>();
      }
      early.put(sequence, buf);
      return;
    }
    deliver(buf);
    if (early != null && !early.isEmpty()) {
      ByteBuf next;
      while ((next = early.remove(receiveSequence)) != null) {
        deliver(next);
      }
    }
  }

  private void deliver(ByteBuf buf) {
    receiveSequence++;
    inbox.offer(buf);
    if (draining.compareAndSet(false, true)) {
      if (ucx.drainsOnLoop(context.nettyEventLoop())) {
        // Progressed on this link's own event loop: hand the frames over when progress returns, with no hop.
        ucx.deferDrain(this);
      } else {
        context.execute(drain);
      }
    }
  }

  /** On the link's event loop, after UCX's progress returned: runs the drain as a task of the link's context. */
  void drainOnLoop() {
    context.dispatch(drain);
  }

  /** On the link's context: hands the frames that arrived to the connection. */
  private void drainInbox() {
    draining.set(false);
    if (messages == null && !closed) {
      // The peer spoke first (a server's challenge) before the connection took the link: start() drains.
      return;
    }
    ByteBuf buf;
    while ((buf = inbox.poll()) != null) {
      if (closed) {
        buf.release();
        continue;
      }
      Object message;
      try {
        message = FrameDecoder.decodeWhole(buf);
      } catch (ProtocolException e) {
        message = e;
      }
      messages.handle(message);
      if (message instanceof ProtocolException) {
        close();
      }
    }
  }

  /** The endpoint failed (peer gone, transport error). */
  void fail(int status, String message) {
    if (!failing.compareAndSet(false, true)) {
      return;
    }
    failure = UcsStatus.failure(status, message);
    failed = true;
    log.debug("RDMA link {} to {} failed: {}", Long.toHexString(id), peerName, message);
    // Not here: this may run inside UCX's progress, holding the worker's lock, while a send on the link's context
    // holds the link's lock and waits for the worker's. Queued operations run outside progress.
    ucx.execute(() -> shutdown(true));
    context.execute(() -> {
      if (!closed) {
        closed = true;
        if (closedHandler != null) {
          closedHandler.handle(null);
        }
      }
    });
  }

  /** On the progress thread, outside UCX's progress. */
  private void shutdown(boolean force) {
    failed = true;
    ucx.unregister(id);
    if (early != null) {
      early.values().forEach(ByteBuf::release);
      early.clear();
    }
    UcpEndpoint ep;
    synchronized (this) {
      ep = endpoint;
      endpoint = null;
    }
    if (ep != null) {
      // Queued: this may run inside the endpoint's error callback (see UcxRuntime.closeEndpoint).
      ucx.execute(() -> UcxRuntime.closeEndpoint(ep, force));
    }
  }

  private RdmaException closedFailure() {
    RdmaException f = failure;
    return f != null ? f : UcsStatus.cancelled("the RDMA link to " + peerName + " is closed");
  }

  @Override
  public String toString() {
    return "UcxLink[" + Long.toHexString(id) + " to " + peerName + "]";
  }
}
