// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import io.spoke.vertx.protocol.Frame;

/**
 * Receives the requests and one-way messages of a {@link Connection}, on its event loop. The handler owns
 * the frame and must release it (after replying, for requests: {@link Frame#id()} is the id to reply to).
 */
@FunctionalInterface
public interface MessageHandler {

  void handle(Connection connection, Frame frame);
}
