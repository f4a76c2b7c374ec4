// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.service;

import io.spoke.vertx.actor.MessageView;
import io.vertx.core.streams.ReadStream;

/**
 * An actor method whose result is a stream of items, sent to the caller as they come, with back-pressure:
 * the runtime reads the returned stream only as fast as the caller consumes (it pauses the stream when the
 * caller's credit runs out). The stream's end, or its failure, ends the call.
 */
@FunctionalInterface
public interface StreamHandler<T> {

  ReadStream<T> handle(MessageView request) throws Exception;
}
