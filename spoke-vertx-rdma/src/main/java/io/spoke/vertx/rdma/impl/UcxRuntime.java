// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.rdma.impl;

import io.netty.channel.EventLoop;
import io.spoke.vertx.RdmaException;
import io.spoke.vertx.RdmaUnavailableException;
import io.spoke.vertx.rdma.RegisteredMemory;
import io.spoke.vertx.spi.RdmaProvider.RdmaLinks;
import java.nio.ByteBuffer;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.openucx.jucx.ucp.UcpConstants;
import org.openucx.jucx.ucp.UcpContext;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpEndpointErrorHandler;
import org.openucx.jucx.ucp.UcpEndpointParams;
import org.openucx.jucx.ucp.UcpParams;
import org.openucx.jucx.ucp.UcpRequestParams;
import org.openucx.jucx.ucp.UcpWorker;
import org.openucx.jucx.ucp.UcpWorkerParams;
import org.openucx.jucx.ucs.UcsConstants;

/**
 * This process's UCX: one context, one worker, and who progresses it. The worker is thread-safe
 * ({@code UCS_THREAD_MODE_MULTI}): links send from their own event loop, which saves a thread hop per frame
 * on this path; everything else (endpoint creation and closing, receives, one-sided operations) runs on the
 * progress thread ({@link #execute}). Completions are handed to the Vert.x context that started the
 * operation by its owner ({@link UcxLink}, {@link io.spoke.vertx.rdma.RdmaEndpoint}).
 * <p>
 * The worker is progressed by a thread of its own ({@link ThreadProgress}: it sleeps on the worker's event fd
 * when idle, so an idle process uses no CPU; with {@code -Dspoke.rdma.busyPoll=true} it never sleeps (lowest
 * latency, one core busy); {@code -Dspoke.rdma.spinMicros=N} spins N microseconds before sleeping), or by the
 * event loop of Netty's epoll transport that first needs RDMA ({@link LoopProgress}). Frames arrive through
 * {@link FrameDemux}; tagged receives wait in {@link TaggedReceives}; status codes are named by
 * {@link UcsStatus}.
 * <p>
 * UCX 1.13 (Debian's libucx0) with jucx 1.18: every request passes the host memory type explicitly (without
 * it, receives fail with "invalid memory type"), and exported memory handles ({@code ucp_memh_pack}) are
 * never used (1.13 lacks them).
 * <p>
 * Internal to the RDMA module (public for {@code Rdma} and {@code RdmaEndpoint}): not API.
 */
public final class UcxRuntime implements RdmaLinks {

  private static final Logger log = LogManager.getLogger(UcxRuntime.class);

  static final int HOST = UcsConstants.MEMORY_TYPE.UCS_MEMORY_TYPE_HOST;
  /** Parameters of every request: the host memory type, which UCX 1.13 needs spelled out. */
  public static final UcpRequestParams HOST_PARAMS = new UcpRequestParams().setMemoryType(HOST);

  private static volatile UcxRuntime instance;
  private static volatile RdmaUnavailableException unavailable;

  private final UcpContext context;
  private final UcpWorker worker;
  private final RegisteredMemory memory;
  private final byte[] workerAddress;
  private final long maxAmHeaderSize;
  private final FrameDemux frames;
  private final Progress progress;
  private final TaggedReceives receives;

  private UcxRuntime(EventLoop eventLoop) {
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
      frames = new FrameDemux(worker, memory, maxAmHeaderSize);
      worker.setAmRecvHandler(FrameDemux.FRAME_AM_ID, frames::onFrame, UcpConstants.UCP_AM_FLAG_WHOLE_MSG);
    } catch (RuntimeException e) {
      context.close();
      throw e;
    }
    boolean busyPoll = Boolean.getBoolean("spoke.rdma.busyPoll");
    EventLoop loop = eventLoop != null && !busyPoll && EVENT_LOOP_PROGRESS && EpollProgress.supports(eventLoop) ? eventLoop : null;
    TaggedReceives receives = new TaggedReceives(worker);
    progress = loop == null ? new ThreadProgress(worker, receives, busyPoll, Long.getLong("spoke.rdma.spinMicros", 0) * 1000)
      : new LoopProgress(worker, receives, loop);
    this.receives = receives;
    progress.start();
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
    return progress.onEventLoop();
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
  public static UcxRuntime get(EventLoop eventLoop) {
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
    execute(() -> frames.register(linkId, link));
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

  /** The worker, for operations on the progress thread. */
  public UcpWorker worker() {
    return worker;
  }

  void unregister(long linkId) {
    frames.unregister(linkId);
  }

  // ------------------------------------------------------------------ progress

  /** Runs {@code operation} on the progress thread (or event loop), which owns the worker's state. */
  public void execute(Runnable operation) {
    progress.execute(operation);
  }

  boolean onProgressThread() {
    return progress.onProgressThread();
  }

  /**
   * Whether a link may send from the calling thread: on the event loop that progresses the worker; with a
   * progress thread, while it sleeps in {@code ucp_worker_wait} (not holding the worker's lock).
   */
  boolean sendsDirectly() {
    return progress.sendsDirectly();
  }

  /** A send did not complete at once: make sure the worker is progressed soon. */
  void wake() {
    progress.wake();
  }

  /** Whether frames for a link on {@code linkLoop} are handed over inline, at the end of progress. */
  boolean drainsOnLoop(EventLoop linkLoop) {
    return progress.drainsOnLoop(linkLoop);
  }

  void deferDrain(UcxLink link) {
    progress.deferDrain(link);
  }

  /** The largest active-message header: a frame header sent apart from its in-place payload must fit. */
  long maxAmHeaderSize() {
    return maxAmHeaderSize;
  }

  /** Queues a tagged receive; it is matched, in the order receives were queued, as messages come. */
  public void receive(TaggedReceive receive) {
    execute(() -> receives.add(receive));
  }

  // ------------------------------------------------------------------ endpoints

  /**
   * Screens {@code address} ({@link #checkWorkerAddress}) and copies it where UCX can read it: on the caller's
   * thread, before any UCX call.
   *
   * @throws RdmaException UCS_ERR_INVALID_ADDR when the address is refused
   */
  public ByteBuffer peerAddress(byte[] address, String whose) {
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
  public UcpEndpoint newEndpoint(ByteBuffer address, UcpEndpointErrorHandler onError, String name) {
    UcpEndpointParams params = new UcpEndpointParams().setUcpAddress(address)
      .setPeerErrorHandlingMode().setErrorHandler(onError);
    return worker.newEndpoint(name == null ? params : params.setName(name));
  }

  /**
   * Closes an endpoint, flushing what is queued on it or, for a failed one, by force. Never from inside its error
   * callback: UCX 1.13 asserts when an endpoint is closed while it still holds requests, which it fails only
   * after the callback returns; callers queue this with {@link #execute}.
   */
  public static void closeEndpoint(UcpEndpoint endpoint, boolean force) {
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
