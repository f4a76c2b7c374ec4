// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * A server connection's defence against a peer that does not read what it is sent. A peer that sends requests and
 * does not read the answers has its reads held until it catches up, so its answers queue up to the link's high-water
 * mark, not without bound. What the server sends unasked (pushes to a subscriber) is not held back by holding reads,
 * and a link that cannot hold reads (RDMA) holds back nothing: a peer that lets more than
 * {@link #limit() the limit} pile up beyond the high-water mark is cut off, rather than let the server's memory grow
 * without bound. Confined to the connection's context.
 */
final class SlowConsumerGuard {

  private static final Logger log = LogManager.getLogger(SlowConsumerGuard.class);

  static final long MIN_BYTES = 64L << 20;
  private static final long BYTES = Long.getLong("spoke.slowConsumerBytes", 0);

  private final Connection connection;
  private final FrameLink link;
  private boolean readsHeld;
  /** The link's queue is past its high-water mark and the link cannot hold reads (an RDMA link): counting. */
  private boolean overfull;
  /** Bytes written since reads were held (or the queue overflowed): what waits for the peer beyond the high-water mark. */
  private long backlog;
  /** The largest frame of {@link #backlog}. */
  private int largestWaiting;

  SlowConsumerGuard(Connection connection, FrameLink link) {
    this.connection = connection;
    this.link = link;
  }

  /** Counts a frame of {@code size} bytes just handed to the link; holds reads, or closes the connection, as needed. */
  void written(int size) {
    if (overfull && !link.writeQueueFull()) {
      overfull = false;
      reset();
    }
    if (readsHeld || overfull) {
      backlog += size;
      largestWaiting = Math.max(largestWaiting, size);
      long limit = limit();
      if (backlog > limit) {
        log.warn("Closing connection with {}: more than {} bytes wait for it: it does not read what it is sent", connection.peerName(), limit);
        connection.close();
      }
    } else if (link.writeQueueFull()) {
      log.debug("Holding reads from {} until it reads what is queued for it", connection.peerName());
      readsHeld = link.holdReadsUntilDrained(() -> {
        readsHeld = false;
        reset();
      });
      overfull = !readsHeld;
      reset();
    }
  }

  private void reset() {
    backlog = 0;
    largestWaiting = 0;
  }

  /**
   * Bytes that may wait for a peer beyond the high-water mark before it is cut off as a slow consumer: twice the
   * largest frame among them, at least {@value #MIN_BYTES} (system property {@code spoke.slowConsumerBytes}
   * overrides). Not the peer's largest possible frame: over RDMA that is 2 GiB, which would let a stalled peer hold
   * 4 GiB of the server's memory.
   */
  private long limit() {
    return BYTES > 0 ? BYTES : Math.max(MIN_BYTES, 2L * largestWaiting);
  }
}
