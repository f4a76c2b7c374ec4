package io.spoke.vertx.rdma;

import io.netty.util.collection.LongObjectHashMap;
import io.netty.util.internal.PlatformDependent;
import io.spoke.vertx.RdmaException;
import io.spoke.vertx.RdmaUnavailableException;
import io.spoke.vertx.rdma.RegisteredMemory.Segment;
import io.spoke.vertx.spi.RdmaProvider.RdmaLinks;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.openucx.jucx.UcxCallback;
import org.openucx.jucx.ucp.UcpAmData;
import org.openucx.jucx.ucp.UcpConstants;
import org.openucx.jucx.ucp.UcpContext;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpParams;
import org.openucx.jucx.ucp.UcpRequest;
import org.openucx.jucx.ucp.UcpRequestParams;
import org.openucx.jucx.ucp.UcpWorker;
import org.openucx.jucx.ucp.UcpWorkerParams;
import org.openucx.jucx.ucs.UcsConstants;

/**
 * This process's UCX: one context, one worker, and the thread that progresses it. The worker is thread-safe
 * ({@code UCS_THREAD_MODE_MULTI}): links send from their own event loop, which saves a thread hop per frame
 * on this path; everything else (endpoint creation and closing, receives, one-sided operations) runs on the
 * progress thread ({@link #execute}). Completions are handed to the Vert.x context that started the
 * operation by its owner ({@link UcxLink}, {@link RdmaEndpoint}).
 * <p>
 * The progress thread drains its queue of operations and progresses the worker until both are idle, then
 * sleeps in {@code ucp_worker_wait} on the worker's event fd (armed, woken by {@code ucp_worker_signal} when
 * an operation is queued), so an idle process uses no CPU. With {@code -Dspoke.rdma.busyPoll=true} it never
 * sleeps (lowest latency, one core busy); {@code -Dspoke.rdma.spinMicros=N} spins N microseconds before
 * sleeping.
 * <p>
 * Spoke frames travel as active messages with id {@link #FRAME_AM_ID} and a 16-byte header: the receiving
 * link's id and the frame's sequence number on its link, so that frames are delivered in order even when
 * UCX completes a rendezvous after a later eager message. Frames from {@link #RNDV_THRESHOLD} bytes up are
 * sent by rendezvous, into a registered segment the receiver picks for the exact size.
 * <p>
 * UCX 1.13 (Debian's libucx0) with jucx 1.18: every request passes the host memory type explicitly (without
 * it, receives fail with "invalid memory type"), and exported memory handles ({@code ucp_memh_pack}) are
 * never used (1.13 lacks them).
 */
final class UcxRuntime implements RdmaLinks {

  private static final Logger log = LogManager.getLogger(UcxRuntime.class);

  /** Active message id of Spoke frames. */
  static final int FRAME_AM_ID = 0x53;
  /** Frames from this size up go by rendezvous: the receiver pulls them straight into a registered segment. */
  static final int RNDV_THRESHOLD = 64 * 1024;
  static final int AM_HEADER_SIZE = 16;

  static final int HOST = UcsConstants.MEMORY_TYPE.UCS_MEMORY_TYPE_HOST;
  static final UcpRequestParams HOST_PARAMS = new UcpRequestParams().setMemoryType(HOST);

  private static volatile UcxRuntime instance;
  private static volatile RdmaUnavailableException unavailable;

  private final UcpContext context;
  private final UcpWorker worker;
  private final RegisteredMemory memory;
  private final byte[] workerAddress;
  private final long maxAmHeaderSize;
  private final Queue<Runnable> operations = PlatformDependent.newMpscQueue();
  private final Thread thread;
  /** Event-loop mode: the event loop that progresses the worker and runs every operation, or {@code null}. */
  private final io.netty.channel.EventLoop loop;
  private final Runnable progressOnLoop = this::progressOnLoop;
  private final java.util.ArrayDeque<UcxLink> loopDrains = new java.util.ArrayDeque<>();
  private boolean loopProgressScheduled;
  private final boolean busyPoll = Boolean.getBoolean("spoke.rdma.busyPoll");
  private final long spinNanos = Long.getLong("spoke.rdma.spinMicros", 0) * 1000;
  /** Links by the id their frames carry; progress thread only. */
  private final LongObjectHashMap<UcxLink> links = new LongObjectHashMap<>();
  /** Tagged receives waiting for a message; progress thread only. */
  private final java.util.ArrayDeque<TaggedReceive> receives = new java.util.ArrayDeque<>();
  private volatile boolean sleeping;
  private volatile boolean running = true;

  private UcxRuntime(io.netty.channel.EventLoop eventLoop) {
    UcpParams params = new UcpParams().requestAmFeature().requestTagFeature().requestRmaFeature().requestWakeupFeature()
      .setMtWorkersShared(true);
    if (AVOID_TCP_ZCOPY) {
      params.setConfig("ZCOPY_THRESH", "inf");
    }
    context = new UcpContext(params);
    try {
      // Thread-safe worker: links send straight from their event loop (no hop to the progress thread), while the
      // progress thread receives and completes.
      worker = context.newWorker(new UcpWorkerParams().requestThreadSafety().requestWakeupRX().requestWakeupTX()
        .requestWakeupEdge());
      ByteBuffer address = worker.getAddress();
      workerAddress = new byte[address.remaining()];
      address.get(workerAddress);
      memory = new RegisteredMemory(context);
      maxAmHeaderSize = worker.getMaxAmHeaderSize();
      worker.setAmRecvHandler(FRAME_AM_ID, this::onFrame, UcpConstants.UCP_AM_FLAG_WHOLE_MSG);
    } catch (RuntimeException e) {
      context.close();
      throw e;
    }
    loop = eventLoop != null && !busyPoll && EVENT_LOOP_PROGRESS && EpollProgress.supports(eventLoop) ? eventLoop : null;
    if (loop == null) {
      thread = new Thread(this::run, "spoke-ucx-progress");
      thread.setDaemon(true);
      thread.start();
    } else {
      thread = null;
      EpollProgress.register(this, loop);
    }
    log.info("UCX started: worker address of {} bytes, {}, {}", workerAddress.length, loop != null
      ? "progressed on the event loop " + loop : busyPoll ? "busy polling" : "sleeping on the worker's event fd when idle",
      AVOID_TCP_ZCOPY ? "zero-copy sends off (ZCOPY_THRESH=inf)" : "zero-copy sends on");
  }

  /**
   * Whether UCP's sends (active messages and tagged) stay off zero copy ({@code ZCOPY_THRESH=inf}, a UCP-wide option,
   * so on every transport). UCX's TCP transport (1.13.1 and,
   * as of this writing, its master branch) completes an outstanding {@code am_zcopy} twice when the socket fails
   * under it: {@code uct_tcp_ep_sendv} calls {@code uct_tcp_ep_handle_send_err}, whose purge of the endpoint
   * completes the send, then completes it again with {@code UCS_ERR_ENDPOINT_TIMEOUT}. With assertions compiled in
   * (Debian's libucx0) that aborts the process ({@code uct_iface.h:884 Assertion 'comp->count > 0'}) whenever a
   * peer dies during a large transfer: rendezvous data over TCP is sent with {@code am_zcopy}. Buffer-copy sends
   * have no such path. It costs bandwidth (BENCHMARKS.md); {@code -Dspoke.rdma.tcpZcopy=true}, or setting
   * {@code UCX_ZCOPY_THRESH} in the environment, gives the choice back, for a UCX built without assertions or
   * with the fix.
   */
  private static final boolean AVOID_TCP_ZCOPY = !Boolean.getBoolean("spoke.rdma.tcpZcopy") && System.getenv("UCX_ZCOPY_THRESH") == null;

  /** {@code -Dspoke.rdma.eventLoop=false} keeps the progress thread even on an epoll event loop. */
  private static final boolean EVENT_LOOP_PROGRESS = Boolean.parseBoolean(System.getProperty("spoke.rdma.eventLoop", "true"));

  /** Whether the worker is progressed on an event loop (Netty's epoll transport) instead of a thread of its own. */
  public boolean progressedOnEventLoop() {
    return loop != null;
  }

  /**
   * This process's runtime, started on first call (blocking for the milliseconds UCX takes).
   *
   * @throws RdmaUnavailableException when the UCX libraries are missing or UCX cannot start
   */
  public static UcxRuntime get() {
    return get(null);
  }

  /**
   * This process's runtime; when it starts, and {@code eventLoop} is an epoll event loop, the worker is
   * progressed there instead of on a thread of its own.
   */
  public static UcxRuntime get(io.netty.channel.EventLoop eventLoop) {
    UcxRuntime started = instance;
    if (started != null) {
      return started;
    }
    synchronized (UcxRuntime.class) {
      if (instance != null) {
        return instance;
      }
      if (unavailable != null) {
        throw unavailable;
      }
      try {
        instance = new UcxRuntime(eventLoop);
        return instance;
      } catch (LinkageError e) {
        unavailable = UcxRdmaProvider.notInstalled(e);
      } catch (RuntimeException e) {
        unavailable = new RdmaUnavailableException("UCX failed to start: " + e.getMessage() + "; calls use TCP", e);
      }
      throw unavailable;
    }
  }

  // ------------------------------------------------------------------ RdmaLinks

  @Override
  public byte[] workerAddress() {
    return workerAddress.clone();
  }

  @Override
  public UcxLink newLink() {
    long id;
    do {
      id = ThreadLocalRandom.current().nextLong();
    } while (id == 0);
    UcxLink link = new UcxLink(this, id);
    long linkId = id;
    execute(() -> links.put(linkId, link));
    return link;
  }

  /**
   * A cheap screen of a peer's worker address before UCX unpacks it: UCX 1.13 does not validate packed
   * addresses, and asserts (aborting the process) or crashes on malformed ones. This turns away what is not an
   * address of this UCX release (another version byte, an absurd size); a crafted address can still get
   * through, so only trusted peers must be able to ask for links (see the cluster token, issue 6).
   *
   * @return why the address is refused, or {@code null}
   */
  String checkWorkerAddress(byte[] address) {
    if (address.length < 8 || address.length > 64 * 1024) {
      return address.length + " bytes is not the size of a UCX worker address";
    }
    if (address[0] != workerAddress[0]) {
      return "its header (0x" + Integer.toHexString(address[0] & 0xff) + ") is not that of this UCX release's addresses (0x"
        + Integer.toHexString(workerAddress[0] & 0xff) + "): run the same UCX on both sides";
    }
    return null;
  }

  /** The registered memory frames and endpoint operations use. */
  public RegisteredMemory memory() {
    return memory;
  }

  UcpWorker worker() {
    return worker;
  }

  void unregister(long linkId) {
    links.remove(linkId);
  }

  // ------------------------------------------------------------------ progress thread

  /** Runs {@code operation} on the progress thread (or event loop), which owns the worker's state. */
  void execute(Runnable operation) {
    if (loop != null) {
      // The operation may leave work for progress (a request that did not complete at once, a receive whose
      // message is already waiting) that no new event on the worker's fd would announce.
      loop.execute(() -> {
        try {
          operation.run();
        } finally {
          scheduleLoopProgress();
        }
      });
      return;
    }
    operations.offer(operation);
    if (sleeping) {
      worker.signal();
    }
  }

  boolean onProgressThread() {
    return loop != null ? loop.inEventLoop() : Thread.currentThread() == thread;
  }

  /**
   * Whether a link may send from the calling thread: on the event loop that progresses the worker; with a
   * progress thread, while it sleeps in {@code ucp_worker_wait} (not holding the worker's lock).
   */
  boolean sendsDirectly() {
    return loop != null ? loop.inEventLoop() : sleeping;
  }

  /** A send did not complete at once: make sure the worker is progressed soon. */
  void wake() {
    if (loop != null) {
      scheduleLoopProgress();
    } else if (sleeping) {
      worker.signal();
    }
  }

  // ------------------------------------------------------------------ event-loop mode

  /** Called by the event loop when the worker's event fd is readable, and after sends that need progress. */
  void progressOnLoop() {
    loopProgressScheduled = false;
    try {
      for (int rounds = 0; rounds < 64; rounds++) {
        int events = worker.progress();
        boolean matched = !receives.isEmpty() && matchReceives();
        if (events == 0 && !matched) {
          break;
        }
      }
    } catch (Throwable t) {
      log.error("UCX progress failed", t);
    }
    UcxLink link;
    while ((link = loopDrains.poll()) != null) {
      link.drainOnLoop();
    }
    try {
      worker.arm();
    } catch (RuntimeException busy) {
      // Events arrived since the last progress (UCS_ERR_BUSY): progress again, after other work on the loop.
      scheduleLoopProgress();
    }
  }

  private void scheduleLoopProgress() {
    if (!loopProgressScheduled) {
      loopProgressScheduled = true;
      loop.execute(progressOnLoop);
    }
  }

  /** Whether frames for a link on {@code linkLoop} are handed over inline, at the end of progress. */
  boolean drainsOnLoop(io.netty.channel.EventLoop linkLoop) {
    return loop != null && linkLoop == loop;
  }

  void deferDrain(UcxLink link) {
    loopDrains.add(link);
  }

  /** The largest active-message header: a frame header sent apart from its in-place payload must fit. */
  long maxAmHeaderSize() {
    return maxAmHeaderSize;
  }

  int eventFd() {
    return worker.getEventFD();
  }

  private void run() {
    long idleSince = 0;
    while (running) {
      boolean worked = false;
      Runnable operation;
      while ((operation = operations.poll()) != null) {
        worked = true;
        try {
          operation.run();
        } catch (Throwable t) {
          log.error("UCX operation failed", t);
        }
      }
      try {
        if (worker.progress() != 0) {
          worked = true;
        }
        if (!receives.isEmpty() && matchReceives()) {
          worked = true;
        }
      } catch (Throwable t) {
        log.error("UCX progress failed", t);
      }
      if (worked || busyPoll) {
        idleSince = 0;
        continue;
      }
      if (spinNanos > 0) {
        long now = System.nanoTime();
        if (idleSince == 0) {
          idleSince = now;
        }
        if (now - idleSince < spinNanos) {
          Thread.onSpinWait();
          continue;
        }
      }
      idleSince = 0;
      sleeping = true;
      if (operations.isEmpty()) {
        worker.waitForEvents();
      }
      sleeping = false;
    }
  }

  /**
   * A tagged receive, matched by probing rather than posted: with UCX 1.13, a posted receive that matches a
   * message already waiting completes at once without reporting the message's length to jucx, so the length
   * is taken from the probe instead, and each message lands in a segment of its exact size.
   */
  interface TaggedReceive {

    long tag();

    /** The probe matched {@code message}; receive it (on the progress thread). */
    void matched(org.openucx.jucx.ucp.UcpTagMessage message);
  }

  /** Queues a tagged receive; it is matched, in the order receives were queued, as messages come. */
  void receive(TaggedReceive receive) {
    execute(() -> receives.add(receive));
  }

  private boolean matchReceives() {
    boolean matched = false;
    for (java.util.Iterator<TaggedReceive> it = receives.iterator(); it.hasNext(); ) {
      TaggedReceive receive = it.next();
      org.openucx.jucx.ucp.UcpTagMessage message = worker.tagProbeNonBlocking(receive.tag(), -1L, true);
      if (message != null) {
        it.remove();
        receive.matched(message);
        matched = true;
      }
    }
    return matched;
  }

  /** Active-message handler of frames: on the progress thread, inside {@code ucp_worker_progress}. */
  private int onFrame(long headerAddress, long headerSize, UcpAmData data, UcpEndpoint replyEp) {
    long length = data.getLength();
    if (headerSize < AM_HEADER_SIZE || headerSize > maxAmHeaderSize) {
      log.warn("Dropping an active message with a {}-byte header: not a Spoke frame", headerSize);
      drain(data);
      return UcsConstants.STATUS.UCS_OK;
    }
    long linkId = PlatformDependent.getLong(headerAddress);
    long sequence = PlatformDependent.getLong(headerAddress + 8);
    // A frame whose payload was sent in place has its header in the active message's header, after the routing.
    int inlineHeader = (int) (headerSize - AM_HEADER_SIZE);
    long frameLength = inlineHeader + length;
    UcxLink link = links.get(linkId);
    if (link == null || frameLength > Integer.MAX_VALUE - RegisteredMemory.HEADROOM) {
      if (link != null) {
        link.fail(UcsConstants.STATUS.UCS_ERR_MESSAGE_TRUNCATED, "a frame of " + frameLength + " bytes is larger than a Java buffer");
      }
      drain(data);
      return UcsConstants.STATUS.UCS_OK;
    }
    Segment segment;
    try {
      segment = memory.take(frameLength);
    } catch (OutOfMemoryError | IllegalStateException e) {
      link.fail(UcsConstants.STATUS.UCS_ERR_NO_MEMORY, "no registered memory for a frame of " + frameLength + " bytes: " + e.getMessage());
      drain(data);
      return UcsConstants.STATUS.UCS_OK;
    }
    if (inlineHeader > 0) {
      PlatformDependent.copyMemory(headerAddress + AM_HEADER_SIZE, segment.dataAddress(), inlineHeader);
    }
    long target = segment.dataAddress() + inlineHeader;
    if (data.isDataValid()) {
      PlatformDependent.copyMemory(data.getDataAddress(), target, length);
      link.received(sequence, segment, (int) frameLength);
    } else {
      worker.recvAmDataNonBlocking(data.getDataHandle(), target, length, new UcxCallback() {
        @Override
        public void onSuccess(UcpRequest request) {
          link.received(sequence, segment, (int) frameLength);
        }

        @Override
        public void onError(int status, String message) {
          memory.recycle(segment);
          link.fail(status, "receiving a frame of " + frameLength + " bytes failed: " + message);
        }
      }, HOST_PARAMS);
    }
    return UcsConstants.STATUS.UCS_OK;
  }

  /** Consumes a message nobody wants: a rendezvous must still be completed, or the sender waits for ever. */
  private void drain(UcpAmData data) {
    if (data.isDataValid()) {
      return;
    }
    Segment scratch = memory.take(data.getLength());
    worker.recvAmDataNonBlocking(data.getDataHandle(), scratch.dataAddress(), data.getLength(), new UcxCallback() {
      @Override
      public void onSuccess(UcpRequest request) {
        memory.recycle(scratch);
      }

      @Override
      public void onError(int status, String message) {
        memory.recycle(scratch);
      }
    }, HOST_PARAMS);
  }

  // ------------------------------------------------------------------ status codes

  private static final Map<Integer, String> STATUS_NAMES = statusNames();

  private static Map<Integer, String> statusNames() {
    Map<Integer, String> names = new HashMap<>();
    for (Field field : UcsConstants.STATUS.class.getFields()) {
      if (Modifier.isStatic(field.getModifiers()) && field.getType() == int.class) {
        try {
          names.putIfAbsent(field.getInt(null), field.getName());
        } catch (IllegalAccessException ignored) {
          // public fields
        }
      }
    }
    return names;
  }

  /** UCX's name of a status code. */
  static String statusName(int status) {
    String name = STATUS_NAMES.get(status);
    return name != null ? name : "UCS status " + status;
  }

  /** A typed failure for a UCX status, naming it. */
  static RdmaException failure(int status, String message) {
    String name = statusName(status);
    return new RdmaException(status, name, message + " (" + name + ")");
  }

  /** The UCX status of a jucx failure; 0 for anything else. */
  static int status(RuntimeException e) {
    return e instanceof org.openucx.jucx.UcxException ? ((org.openucx.jucx.UcxException) e).getStatus() : 0;
  }

  /** The failure of an operation on something closed here (a link, an endpoint). */
  static RdmaException cancelled(String what) {
    return new RdmaException(UcsConstants.STATUS.UCS_ERR_CANCELED, "UCS_ERR_CANCELED", what);
  }

  // ------------------------------------------------------------------ endpoints

  /**
   * Screens {@code address} ({@link #checkWorkerAddress}) and copies it where UCX can read it: on the caller's
   * thread, before any UCX call.
   *
   * @throws RdmaException UCS_ERR_INVALID_ADDR when the address is refused
   */
  ByteBuffer peerAddress(byte[] address, String whose) {
    String refusal = checkWorkerAddress(address);
    if (refusal != null) {
      throw new RdmaException(UcsConstants.STATUS.UCS_ERR_INVALID_ADDR, "UCS_ERR_INVALID_ADDR", "refusing the worker address of "
        + whose + ": " + refusal);
    }
    return ByteBuffer.allocateDirect(address.length).put(address).flip();
  }

  /**
   * An endpoint to the worker at {@code address} (from {@link #peerAddress}), with peer error handling so that a
   * dead peer is reported to {@code onError} instead of hanging: on the progress thread. {@code name}, if not
   * {@code null}, names it in UCX's traces.
   */
  UcpEndpoint newEndpoint(ByteBuffer address, org.openucx.jucx.ucp.UcpEndpointErrorHandler onError, String name) {
    org.openucx.jucx.ucp.UcpEndpointParams params = new org.openucx.jucx.ucp.UcpEndpointParams().setUcpAddress(address)
      .setPeerErrorHandlingMode().setErrorHandler(onError);
    return worker.newEndpoint(name == null ? params : params.setName(name));
  }

  /**
   * Closes an endpoint, flushing what is queued on it or, for a failed one, by force. Never from inside its error
   * callback: UCX 1.13 asserts when an endpoint is closed while it still holds requests, which it fails only
   * after the callback returns; callers queue this with {@link #execute}.
   */
  static void closeEndpoint(UcpEndpoint endpoint, boolean force) {
    try {
      if (force) {
        endpoint.closeNonBlockingForce();
      } else {
        endpoint.closeNonBlockingFlush();
      }
    } catch (RuntimeException e) {
      log.debug("Closing a UCX endpoint: {}", e.getMessage());
    }
  }
}
