// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

/**
 * A request for part of an actor's log: a client's to the hub, or the hub's to the actor's agent.
 *
 * @param actorId  the actor, unchecked
 * @param offset   where to start, in bytes
 * @param maxBytes at most this many bytes
 */
public record ReadLogRequest(String actorId, long offset, int maxBytes) {
}
