// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.internal.CommandLine;
import io.spoke.vertx.internal.MainExit;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * {@code ./spoke agent --hub HOST:PORT[,HOST:PORT...] [--port P] [--gpus N] [--cpus N] [--memory MiB] ...}: runs an agent
 * until the process is told to stop; its actors stop with it.
 */
public final class AgentMain {

  static final Set<String> STRING_KEYS = Stream.concat(Stream.of("advertiseHost", "nodeId", "javaCommand", "actorClasspath"),
    SecurityOptions.STRING_KEYS.stream()).collect(Collectors.toSet());
  static final Map<String, String> ALIASES = Map.of("memory", "memoryMb");

  private AgentMain() {
  }

  public static void main(String[] args) {
    List<String> list = new ArrayList<>(Arrays.asList(args));
    if (list.contains("--help") || list.contains("-h")) {
      System.out.println("usage: spoke agent --hub HOST:PORT[,HOST:PORT...] [options]\n  options: --hub "
        + CommandLine.flags(new AgentOptions().toJson(), STRING_KEYS, ALIASES)
        + "\n  (the options of AgentOptions, in kebab case; defaults: " + new AgentOptions().toJson().encode() + ")");
      return;
    }
    AgentOptions options;
    try {
      options = parse(list);
    } catch (IllegalArgumentException e) {
      System.err.println("spoke agent: " + e.getMessage());
      System.exit(2);
      return;
    }
    Vertx vertx = options.getHttpPort() >= 0 ? Vertx.vertx(io.spoke.vertx.web.Metrics.vertxOptions()) : Vertx.vertx();
    // At a signal the agent stops its actors; if it cannot, they get their parent-death signal when it exits.
    MainExit exit = new MainExit("spoke agent", vertx, 15_000);
    AgentVerticle agent = new AgentVerticle(options);
    vertx.deployVerticle(agent)
      .onSuccess(id -> agent.dismissed().onSuccess(d -> exit.exit(d.exitStatus(), "spoke agent: the hub dismissed this node"
        + (d.reason().isEmpty() ? "" : ": " + d.reason()) + "; exiting with status " + d.exitStatus(), 15_000)))
      .onSuccess(id -> agent.registered().onSuccess(v -> {
        System.out.println("Spoke agent " + agent.nodeId() + " registered with the hub at " + options.getHubHost() + ":" + options.getHubPort());
        if (agent.httpUrl() != null) {
          System.out.println("Spoke agent " + agent.nodeId() + ": /metrics, /health and /ready at " + agent.httpUrl());
        }
      }))
      .onFailure(exit::cannotStart);
  }

  static AgentOptions parse(List<String> args) {
    String hub = CommandLine.take(args, "hub");
    JsonObject json = CommandLine.parse(args, new AgentOptions().toJson(), STRING_KEYS, ALIASES);
    if (hub != null) {
      json.mergeIn(CommandLine.hubs("hub", hub));
    }
    return new AgentOptions(json);
  }
}
