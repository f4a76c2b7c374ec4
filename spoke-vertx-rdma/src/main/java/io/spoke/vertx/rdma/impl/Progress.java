// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.rdma.impl;

import io.netty.channel.EventLoop;
import org.openucx.jucx.ucp.UcpWorker;

/**
 * Who progresses the worker and runs the operations on its state: a thread of its own ({@link ThreadProgress}),
 * or the event loop of Netty's epoll transport that watches the worker's event fd ({@link LoopProgress}). Both
 * match the waiting {@linkplain TaggedReceives tagged receives} as part of progress.
 */
abstract class Progress {

  final UcpWorker worker;
  final TaggedReceives receives;

  Progress(UcpWorker worker, TaggedReceives receives) {
    this.worker = worker;
    this.receives = receives;
  }

  /** Starts progressing the worker. */
  abstract void start();

  /** Whether the worker is progressed on an event loop instead of a thread of its own. */
  abstract boolean onEventLoop();

  /** Runs {@code operation} on the progress thread (or event loop), which owns the worker's state. */
  abstract void execute(Runnable operation);

  abstract boolean onProgressThread();

  /**
   * Whether a link may send from the calling thread: on the event loop that progresses the worker; with a
   * progress thread, while it sleeps in {@code ucp_worker_wait} (not holding the worker's lock).
   */
  abstract boolean sendsDirectly();

  /** A send did not complete at once: make sure the worker is progressed soon. */
  abstract void wake();

  /** Whether frames for a link on {@code linkLoop} are handed over inline, at the end of progress. */
  abstract boolean drainsOnLoop(EventLoop linkLoop);

  /** Hands {@code link}'s frames over at the end of this progress; only where {@link #drainsOnLoop} said so. */
  abstract void deferDrain(UcxLink link);
}
