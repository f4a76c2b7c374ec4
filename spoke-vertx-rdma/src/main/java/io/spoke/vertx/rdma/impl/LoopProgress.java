// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.rdma.impl;

import io.netty.channel.EventLoop;
import java.util.ArrayDeque;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.openucx.jucx.ucp.UcpWorker;

/**
 * The worker progressed on an event loop of Netty's epoll transport, which watches its event fd
 * ({@link EpollProgress}) and runs every operation: frames for links of that loop are handed over at the end of
 * progress, with no thread hop.
 */
final class LoopProgress extends Progress {

  /** The runtime's logger, as before progress had a class of its own. */
  private static final Logger log = LogManager.getLogger(UcxRuntime.class);

  /** The event loop that progresses the worker and runs every operation. */
  private final EventLoop loop;
  private final Runnable progressOnLoop = this::progressOnLoop;
  private final ArrayDeque<UcxLink> loopDrains = new ArrayDeque<>();
  private boolean loopProgressScheduled;

  LoopProgress(UcpWorker worker, TaggedReceives receives, EventLoop loop) {
    super(worker, receives);
    this.loop = loop;
  }

  @Override
  void start() {
    EpollProgress.register(this, loop);
  }

  @Override
  boolean onEventLoop() {
    return true;
  }

  @Override
  void execute(Runnable operation) {
    // The operation may leave work for progress (a request that did not complete at once, a receive whose
    // message is already waiting) that no new event on the worker's fd would announce.
    loop.execute(() -> {
      try {
        operation.run();
      } finally {
        scheduleLoopProgress();
      }
    });
  }

  @Override
  boolean onProgressThread() {
    return loop.inEventLoop();
  }

  @Override
  boolean sendsDirectly() {
    return loop.inEventLoop();
  }

  @Override
  void wake() {
    scheduleLoopProgress();
  }

  @Override
  boolean drainsOnLoop(EventLoop linkLoop) {
    return linkLoop == loop;
  }

  @Override
  void deferDrain(UcxLink link) {
    loopDrains.add(link);
  }

  int eventFd() {
    return worker.getEventFD();
  }

  /** Called by the event loop when the worker's event fd is readable, and after sends that need progress. */
  void progressOnLoop() {
    loopProgressScheduled = false;
    try {
      for (int rounds = 0; rounds < 64; rounds++) {
        int events = worker.progress();
        boolean matched = receives.match();
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
}
