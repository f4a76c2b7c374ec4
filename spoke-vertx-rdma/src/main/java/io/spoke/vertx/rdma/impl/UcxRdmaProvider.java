// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.rdma.impl;

import io.spoke.vertx.RdmaUnavailableException;
import io.spoke.vertx.spi.RdmaProvider;

/** Core's way in ({@link java.util.ServiceLoader}): the process's {@link UcxRuntime}. Internal to the RDMA module: not API. */
public final class UcxRdmaProvider implements RdmaProvider {

  @Override
  public RdmaLinks start(io.netty.channel.EventLoop eventLoop) {
    try {
      return UcxRuntime.get(eventLoop);
    } catch (LinkageError e) {
      // UcxRuntime's static initialisation touches jucx's constants, which load the native libraries.
      Throwable cause = e instanceof ExceptionInInitializerError && e.getCause() != null ? e.getCause() : e;
      throw notInstalled(cause);
    }
  }

  /** The failure for a process where the UCX native libraries do not load. */
  static RdmaUnavailableException notInstalled(Throwable cause) {
    return new RdmaUnavailableException("UCX is not installed in this process's environment (" + cause.getMessage()
      + "): install the UCX libraries (Debian/Ubuntu: apt-get install libucx0; RHEL: dnf install ucx) and restart the process;"
      + " until then calls use TCP", cause);
  }
}
