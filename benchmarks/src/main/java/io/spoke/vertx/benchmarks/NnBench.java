// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import static io.spoke.vertx.benchmarks.Bench.ACTOR_JVM;
import static io.spoke.vertx.benchmarks.Bench.await;

import io.spoke.vertx.benchmarks.baseline.EchoServer;
import io.spoke.vertx.client.ActorHandle;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;

/**
 * n client processes calling n actors at once, against the same clients calling n echo servers.
 */
final class NnBench extends BenchSection {

  NnBench(Bench bench) {
    super(bench);
  }

  /** 4 client processes x 4 actors, 64 calls in flight per client; baseline: the same against 4 echo servers. */
  void nToN() throws Exception {
    int n = 4;
    List<String> ids = new ArrayList<>();
    List<Child> servers = new ArrayList<>();
    try {
      List<Future<ActorHandle>> spawns = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        ids.add("nn-" + i);
        spawns.add(client.spawn("BenchEcho", "nn-" + i));
        servers.add(Child.java(ACTOR_JVM, EchoServer.class, "nio"));
      }
      await(Future.all(spawns));
      List<String> ports = new ArrayList<>();
      for (Child server : servers) {
        ports.add(server.await("port ", 60_000).split(" ")[1]);
      }
      double base = nClients("echo", "-", String.join(",", ports), n);
      double ours = nClients("spoke", String.valueOf(hub.actualPort()), String.join(",", ids), n);
      emit(new Metric("n_n", ours, "calls/s", base, n + " client processes x " + n + " actors, 64 in flight per client"));
    } finally {
      for (Child server : servers) {
        server.close();
      }
      for (String id : ids) {
        await(client.stop(id));
      }
    }
  }

  private double nClients(String mode, String hubPort, String targets, int n) throws Exception {
    List<Child> clients = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        clients.add(Child.java(ACTOR_JVM, NnClient.class, mode, hubPort, "64", String.valueOf(durationMs), targets));
      }
      for (Child c : clients) {
        c.await("ready", 120_000);
      }
      // Every client warms up until the same instant, then all measure over the same window.
      long startAt = System.currentTimeMillis() + warmupMs;
      for (Child c : clients) {
        c.send("start " + startAt);
      }
      double calls = 0;
      double seconds = 0;
      for (Child c : clients) {
        String[] result = c.await("result ", warmupMs + durationMs + 120_000).split(" ");
        calls += Long.parseLong(result[1]);
        seconds = Math.max(seconds, Double.parseDouble(result[2]));
      }
      return calls / seconds;
    } finally {
      for (Child c : clients) {
        c.close();
      }
    }
  }
}
