// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import static io.spoke.vertx.benchmarks.Bench.await;
import static io.spoke.vertx.benchmarks.Latencies.median;
import static io.spoke.vertx.benchmarks.Bench.onContext;

import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.AgentVerticle;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.hub.HubVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Gang scheduling: allocate and release through the client API, with and without the hub's ticket journal, and a
 * whole gang allocated, launched, called and released.
 */
final class GangBench extends BenchSection {

  GangBench(Bench bench) {
    super(bench);
  }

  /**
   * allocate + release pairs through the client API, 64 in flight, on 16 simulated nodes of 8 GPUs (agents in this
   * JVM); then the same against a second hub that keeps a ticket journal ({@code --state-dir}), which fsyncs each
   * allocation before answering it, with the first as its baseline.
   */
  void gang() throws Exception {
    Load.Outcome memory = gangPairs(hub, client);
    emit(new Metric("gang_alloc_release", memory.perSecond(), "pairs/s", null,
      "64 in flight, 17 nodes of 8 GPUs; bar 10,000/s; Ray placement group create+remove: 765/s"));
    emit(new Metric("gang_alloc_release_p99", memory.latencies.percentileMicros(99), "us", null, null));

    Path stateDir = out.resolve("hub-state");
    HubVerticle journaled = new HubVerticle(new HubOptions().setPort(0).setStateDir(stateDir.toString()));
    await(vertx.deployVerticle(journaled));
    SpokeClient journalClient = onContext(context,
      () -> SpokeClient.create(vertx, new SpokeClientOptions().setHubPort(journaled.actualPort())));
    try {
      Load.Outcome durable = gangPairs(journaled, journalClient);
      emit(new Metric("gang_alloc_release_journal", durable.perSecond(), "pairs/s", memory.perSecond(),
        "the same on 16 nodes with --state-dir: each allocation and release fsynced before it is answered (group commit); "
          + "baseline: no journal, same run"));
      emit(new Metric("gang_alloc_release_journal_p99", durable.latencies.percentileMicros(99), "us",
        memory.latencies.percentileMicros(99), null));
    } finally {
      await(journalClient.close());
      await(vertx.undeploy(journaled.deploymentID()));
    }
  }

  private Load.Outcome gangPairs(HubVerticle target, SpokeClient via) throws Exception {
    return gangPairs(bench, target, via);
  }

  /** allocate + release pairs, 64 in flight, through {@code via} to {@code target} with 16 simulated nodes of 8 GPUs here. */
  static Load.Outcome gangPairs(Bench bench, HubVerticle target, SpokeClient via) throws Exception {
    Vertx vertx = bench.vertx;
    List<AgentVerticle> nodes = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      AgentVerticle node = new AgentVerticle(new AgentOptions().setHubPort(target.actualPort()).setNodeId("sim-" + i).setGpus(8).setWarmPool(0)
        .setLogDir(bench.out.resolve("logs").toString()));
      await(vertx.deployVerticle(node));
      await(node.registered());
      nodes.add(node);
    }
    try {
      // A request is a ticket (its id is chosen when it is created): one per allocation.
      return bench.measure(bench.context, () -> via.gangAllocate(new GangRequest().setNodes(1).setActorsPerNode(1).setGpus(1))
        .compose(a -> via.release(a.ticketId())), 64);
    } finally {
      for (AgentVerticle node : nodes) {
        await(vertx.undeploy(node.deploymentID()));
      }
    }
  }

  /** allocate 8 ranks + launch 8 actors + one call on each + release, end to end. */
  void gangEndToEnd() throws Exception {
    int runs = quick ? 1 : 3;
    double[] total = new double[runs];
    double[] allocate = new double[runs];
    double[] launch = new double[runs];
    for (int r = 0; r < runs; r++) {
      long start = System.nanoTime();
      Allocation allocation = await(client.gangAllocate(new GangRequest().setNodes(1).setActorsPerNode(8).setGpus(1)
        .setPreferredNode("bench")));
      allocate[r] = (System.nanoTime() - start) / 1e6;
      List<Future<ActorHandle>> launches = new ArrayList<>();
      for (int rank = 0; rank < 8; rank++) {
        launches.add(client.launch(allocation.ticketId(), rank, "BenchEcho", "g" + r + "-rank-" + rank));
      }
      List<ActorHandle> handles = await(Future.all(launches)).list();
      launch[r] = (System.nanoTime() - start) / 1e6;
      await(Future.all(handles.stream().map(h -> h.call(BenchActor.ECHO, Buffer.buffer(new byte[64]))).collect(Collectors.toList())));
      await(client.release(allocation.ticketId()));
      total[r] = (System.nanoTime() - start) / 1e6;
    }
    emit(new Metric("gang_e2e_8", median(total), "ms", null,
      String.format("allocate %.1f ms, all 8 launched at %.0f ms, then one call each and release", median(allocate), median(launch))));
  }
}
