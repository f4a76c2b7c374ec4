// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import io.spoke.vertx.protocol.Frame;

/**
 * Turns a successful reply frame into a value. Runs on the connection's event loop; the frame is released
 * after it returns, so the value must not refer to the frame's memory.
 */
@FunctionalInterface
public interface ReplyDecoder<T> {

  T decode(Frame reply);
}
