// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.rdma.impl;

import io.netty.channel.EventLoop;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The UCX worker's event fd, watched by a Vert.x event loop of Netty's epoll transport: when it is readable,
 * the loop progresses the worker itself, so frames for links of that loop are handled where they arrive, with
 * no thread hop. Used by {@link LoopProgress} when the context that first needs RDMA runs on such a loop; with
 * the NIO transport (which cannot watch a foreign file descriptor) the progress thread does the job.
 */
final class EpollProgress implements EpollIoHandle {

  private static final Logger log = LogManager.getLogger(EpollProgress.class);

  private final LoopProgress progress;
  private final FileDescriptor fd;

  private EpollProgress(LoopProgress progress) {
    this.progress = progress;
    this.fd = new FileDescriptor(progress.eventFd());
  }

  /** Whether {@code loop} is an event loop of the epoll transport, which can watch UCX's event fd. */
  static boolean supports(EventLoop loop) {
    try {
      return loop instanceof IoEventLoop && ((IoEventLoop) loop).isCompatible(EpollIoHandle.class);
    } catch (LinkageError e) {
      // The epoll transport's classes are not on the class path.
      return false;
    }
  }

  /** Makes {@code loop} progress the worker whenever its event fd is readable. */
  static void register(LoopProgress progress, EventLoop loop) {
    EpollProgress handle = new EpollProgress(progress);
    ((IoEventLoop) loop).register(handle).addListener(f -> {
      if (f.isSuccess()) {
        ((IoRegistration) f.getNow()).submit(EpollIoOps.EPOLLIN);
        // Whatever happened before the fd was watched.
        progress.progressOnLoop();
      } else {
        log.error("Cannot watch UCX's event fd on {}: {}; RDMA links will not progress", loop, f.cause().toString());
      }
    });
  }

  @Override
  public FileDescriptor fd() {
    return fd;
  }

  @Override
  public void handle(IoRegistration registration, IoEvent event) {
    progress.progressOnLoop();
  }

  @Override
  public void close() {
    // The fd belongs to UCX's worker: not ours to close.
  }
}
