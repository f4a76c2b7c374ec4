// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.internal.CommandLine;
import io.spoke.vertx.internal.MainExit;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** {@code ./spoke hub [--port P] [--host H] ...}: runs a hub until the process is told to stop. */
public final class HubMain {

  /** Flags of string options whose default is null, so absent from the options' JSON template. */
  static final Set<String> STRING_KEYS = Stream.concat(Stream.of("stateDir", "etcd", "advertise", "etcdUser", "etcdPasswordFile", "etcdCa",
    "etcdCert", "etcdKey"), SecurityOptions.STRING_KEYS.stream())
    .collect(Collectors.toSet());

  private HubMain() {
  }

  public static void main(String[] args) {
    List<String> list = new ArrayList<>(Arrays.asList(args));
    if (list.contains("--help") || list.contains("-h")) {
      System.out.println("usage: spoke hub [options]\n  options: " + CommandLine.flags(new HubOptions().toJson(), STRING_KEYS, Map.of())
        + "\n  (the options of HubOptions, in kebab case; defaults: " + new HubOptions().toJson().encode() + ")");
      return;
    }
    HubOptions options;
    try {
      options = new HubOptions(CommandLine.parse(list, new HubOptions().toJson(), STRING_KEYS, Map.of()));
      if (!options.getEtcd().isEmpty() && options.getStateDir() != null) {
        throw new IllegalArgumentException("a hub keeps its state in etcd (--etcd) or in a state directory (--state-dir), not both");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("spoke hub: " + e.getMessage());
      System.exit(2);
      return;
    }
    // Vert.x's own metrics (net, HTTP, event loops, JVM) go to Prometheus with the hub's.
    Vertx vertx = Vertx.vertx(io.spoke.vertx.web.Metrics.vertxOptions());
    MainExit exit = new MainExit("spoke hub", vertx, 10_000);
    HubVerticle hub = new HubVerticle(options);
    vertx.deployVerticle(hub)
      .onSuccess(id -> {
        // A line of its own each: scripts read the port from the first.
        System.out.println("Spoke hub listening on " + options.getHost() + ":" + hub.actualPort() + (options.getEtcd().isEmpty() ? ""
          : " (one of the hubs on etcd " + String.join(",", options.getEtcd()) + ": it serves while etcd elects it the leader)"));
        if (hub.httpUrl() != null) {
          System.out.println("Spoke hub status page and /metrics at " + hub.httpUrl());
        }
      })
      .onFailure(exit::cannotStart);
  }
}
