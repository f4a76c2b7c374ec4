// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent;

/**
 * The hub's word that the cluster ends (see {@link AgentVerticle#dismissed()}): the agent's embedding exits with
 * {@code exitStatus} (0, or the status of the run's first failing rank), and says {@code reason}.
 */
public record Dismissal(int exitStatus, String reason) {
}
