// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.protocol.fb.ErrorCode;
import org.apache.logging.log4j.Logger;

/**
 * What a server does when its handler of a peer's message throws: a message it could not read is the peer's fault
 * (refused, and that peer's connection closed, as a frame that cannot be read is); anything else is a bug of the
 * server's own, which must cost no one their connection: the request fails with an internal error, the stack goes
 * to the log, and the connection and everyone else carry on.
 */
public final class HandlerFailures {

  private HandlerFailures() {
  }

  /**
   * Whether {@code e} was thrown while a message was read: a {@link ProtocolException}, or an exception raised within
   * the protocol's readers (the generated FlatBuffers code and the views over it) before any of the handler's own
   * code, which lives in the roles' packages.
   */
  public static boolean malformed(Throwable e) {
    if (e instanceof ProtocolException) {
      return true;
    }
    for (StackTraceElement frame : e.getStackTrace()) {
      String name = frame.getClassName();
      if (name.startsWith("io.spoke.vertx.protocol.") || name.startsWith("com.google.flatbuffers.")) {
        return true;
      }
      if (name.startsWith("io.spoke.vertx.hub.") || name.startsWith("io.spoke.vertx.agent.") || name.startsWith("io.spoke.vertx.actor.")
        || name.startsWith("io.spoke.vertx.internal.")) {
        return false;
      }
    }
    return false;
  }

  /**
   * Handles {@code e}, thrown by {@code server}'s handler of a message (request {@code id}, or 0 for a one-way one)
   * described by {@code what}: a message that could not be read is refused and the connection closed; a bug fails the
   * request with an internal error and is logged with its stack, the connection kept.
   */
  public static void handle(Connection connection, long id, String server, String what, RuntimeException e, Logger log) {
    if (malformed(e)) {
      log.warn("Closing connection with {}: malformed {}: {}", connection.peerName(), what, e.getMessage());
      connection.replyError(id, ErrorCode.Protocol, "malformed " + what + ": " + e.getMessage());
      connection.close();
      return;
    }
    log.error("Internal error in {} while handling {} from {}; that request fails, the connection stays", server, what,
      connection.peerName(), e);
    if (id != 0) {
      connection.replyError(id, ErrorCode.Internal, "internal error in " + server + " while handling " + what + " ("
        + e.getClass().getSimpleName() + "); its log has the details");
    }
  }
}
