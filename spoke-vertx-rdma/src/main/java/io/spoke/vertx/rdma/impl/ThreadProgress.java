// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.rdma.impl;

import io.netty.channel.EventLoop;
import io.netty.util.internal.PlatformDependent;
import java.util.Queue;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.openucx.jucx.ucp.UcpWorker;

/**
 * The worker progressed by a thread of its own, {@code spoke-ucx-progress}: it drains its queue of operations and
 * progresses the worker until both are idle, then sleeps in {@code ucp_worker_wait} on the worker's event fd
 * (armed, woken by {@code ucp_worker_signal} when an operation is queued), so an idle process uses no CPU. Busy
 * polling never sleeps (lowest latency, one core busy); a spin of N microseconds spins that long before sleeping.
 */
final class ThreadProgress extends Progress {

  /** The runtime's logger, as before progress had a class of its own. */
  private static final Logger log = LogManager.getLogger(UcxRuntime.class);

  private final Queue<Runnable> operations = PlatformDependent.newMpscQueue();
  private final Thread thread;
  private final boolean busyPoll;
  private final long spinNanos;
  private volatile boolean sleeping;
  private volatile boolean running = true;

  ThreadProgress(UcpWorker worker, TaggedReceives receives, boolean busyPoll, long spinNanos) {
    super(worker, receives);
    this.busyPoll = busyPoll;
    this.spinNanos = spinNanos;
    thread = new Thread(this::run, "spoke-ucx-progress");
    thread.setDaemon(true);
  }

  @Override
  void start() {
    thread.start();
  }

  @Override
  boolean onEventLoop() {
    return false;
  }

  @Override
  void execute(Runnable operation) {
    operations.offer(operation);
    if (sleeping) {
      worker.signal();
    }
  }

  @Override
  boolean onProgressThread() {
    return Thread.currentThread() == thread;
  }

  @Override
  boolean sendsDirectly() {
    return sleeping;
  }

  @Override
  void wake() {
    if (sleeping) {
      worker.signal();
    }
  }

  @Override
  boolean drainsOnLoop(EventLoop linkLoop) {
    return false;
  }

  @Override
  void deferDrain(UcxLink link) {
    throw new IllegalStateException("no event loop progresses the worker: links' frames are not drained inline");
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
        if (receives.match()) {
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
}
