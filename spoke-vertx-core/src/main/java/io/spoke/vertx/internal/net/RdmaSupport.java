// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import io.spoke.vertx.RdmaUnavailableException;
import io.spoke.vertx.spi.RdmaProvider;
import io.spoke.vertx.spi.RdmaProvider.RdmaLinks;
import io.vertx.core.Future;
import io.vertx.core.internal.ContextInternal;
import java.util.Iterator;
import java.util.ServiceLoader;

/**
 * Finds and starts the RDMA data plane ({@link RdmaProvider}) once per process, off the event loop.
 * Without the {@code spoke-vertx-rdma} module, or without UCX, or with {@code -Dspoke.rdma=false} (for
 * actor hosts: in the spawn's or the agent's actor JVM options), every attempt fails with the same
 * {@link RdmaUnavailableException}, which says what to do.
 */
public final class RdmaSupport {

  /**
   * Largest frame on an RDMA link: there is no protocol limit (UCX rendezvous moves any size without a
   * reallocation round trip); Java buffers stop just short of 2 GiB.
   */
  public static final int MAX_FRAME_SIZE = Integer.MAX_VALUE - 64;

  private static volatile RdmaLinks links;
  private static volatile RdmaUnavailableException failure;

  private RdmaSupport() {
  }

  /** This process's links, starting UCX on first use; completes on the caller's context. */
  public static Future<RdmaLinks> start(ContextInternal context) {
    RdmaLinks started = links;
    if (started != null) {
      return context.succeededFuture(started);
    }
    RdmaUnavailableException failed = failure;
    if (failed != null) {
      return context.failedFuture(failed);
    }
    return context.executeBlocking(() -> startBlocking(context.nettyEventLoop()), false);
  }

  private static synchronized RdmaLinks startBlocking(io.netty.channel.EventLoop eventLoop) {
    if (links != null) {
      return links;
    }
    if (failure != null) {
      throw failure;
    }
    try {
      if (!Boolean.parseBoolean(System.getProperty("spoke.rdma", "true"))) {
        throw new RdmaUnavailableException("RDMA is turned off in this process (-Dspoke.rdma=false); calls use TCP");
      }
      Iterator<RdmaProvider> providers = ServiceLoader.load(RdmaProvider.class, RdmaSupport.class.getClassLoader()).iterator();
      if (!providers.hasNext()) {
        throw new RdmaUnavailableException("this process has no RDMA support: put the spoke-vertx-rdma module"
          + " (io.spoke:spoke-vertx-rdma and its dependency org.openucx:jucx) on its classpath");
      }
      links = providers.next().start(eventLoop);
      return links;
    } catch (RdmaUnavailableException e) {
      failure = e;
      throw e;
    } catch (RuntimeException | LinkageError e) {
      failure = new RdmaUnavailableException("the RDMA transport failed to start: " + e, e);
      throw failure;
    }
  }
}
