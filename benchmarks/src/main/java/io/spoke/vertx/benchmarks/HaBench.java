// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import static io.spoke.vertx.benchmarks.Bench.await;
import static io.spoke.vertx.benchmarks.Bench.onContext;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.AgentVerticle;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.hub.HubMain;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.hub.HubVerticle;
import io.spoke.vertx.test.EtcdCluster;
import io.vertx.core.json.JsonObject;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The control plane on etcd (a real three-member etcd on loopback): allocate + release pairs against a hub whose state
 * is in etcd, with the local journal's as the baseline in the same run; the state's size for a gang of 8 ranks; and
 * failovers: the leading hub (of three, in processes of their own, lease 2 s) SIGKILLed, until the next gang
 * allocation is answered by the hub that took over.
 */
final class HaBench extends BenchSection {

  static final String PREFIX = "/spoke/bench";

  HaBench(Bench bench) {
    super(bench);
  }

  void run() throws Exception {
    if (!EtcdCluster.available()) {
      System.err.println("spoke bench: no etcd here (apt-get install etcd-server etcd-client); skipping the ha section");
      return;
    }
    Path dir = Files.createTempDirectory(out, "etcd");
    try (EtcdCluster etcd = EtcdCluster.start(pid -> { }, dir, 3);
         Client reader = Client.builder().endpoints(etcd.endpoints().split(",")).build()) {
      pairs(etcd, reader);
      failovers(etcd, reader);
    }
  }

  private void pairs(EtcdCluster etcd, Client reader) throws Exception {
    HubVerticle journaled = new HubVerticle(new HubOptions().setPort(0).setHttpPort(-1).setStateDir(out.resolve("ha-journal").toString()));
    Load.Outcome journal = pairsOn(journaled);
    HubVerticle onEtcd = new HubVerticle(new HubOptions().setPort(0).setHttpPort(-1).setEtcd(List.of(etcd.endpoints().split(",")))
      .setEtcdPrefix(PREFIX + "-pairs").setLeaseTtl(2_000));
    long revisionBefore = revision(reader);
    long started = System.nanoTime();
    Load.Outcome stored = pairsOn(onEtcd);
    double seconds = (System.nanoTime() - started) / 1e9;
    long writes = revision(reader) - revisionBefore;
    emit(new Metric("gang_alloc_release_etcd", stored.perSecond(), "pairs/s", journal.perSecond(),
      String.format("64 in flight on 16 nodes, the hub's state in a 3-member etcd (every allocation and release written, fenced, "
        + "before it is answered; group commit); baseline: the local journal, same run; %.0f etcd revisions/s", writes / seconds)));
    emit(new Metric("gang_alloc_release_etcd_p99", stored.latencies.percentileMicros(99), "us", journal.latencies.percentileMicros(99),
      null));
  }

  /** allocate + release pairs against {@code target}, deployed here with 16 simulated nodes; then undeployed. */
  private Load.Outcome pairsOn(HubVerticle target) throws Exception {
    await(vertx.deployVerticle(target));
    awaitLeading(target);
    SpokeClient via = onContext(context, () -> SpokeClient.create(vertx, new SpokeClientOptions().setHubPort(target.actualPort())));
    try {
      return GangBench.gangPairs(bench, target, via);
    } finally {
      await(via.close());
      await(vertx.undeploy(target.deploymentID()));
    }
  }

  private static void awaitLeading(HubVerticle hub) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!hub.isLeader()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the hub did not come to lead within 60 s");
      }
      Thread.sleep(10);
    }
  }

  private static long revision(Client reader) throws Exception {
    return reader.getKVClient().get(ByteSequence.from("/", StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS).getHeader().getRevision();
  }

  /** Where the leader listens, as its election key says; null when none leads. */
  private static String leader(Client reader) throws Exception {
    List<KeyValue> key = reader.getKVClient().get(ByteSequence.from(PREFIX + "/leader", StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS)
      .getKvs();
    return key.isEmpty() ? null : new JsonObject(key.get(0).getValue().toString(StandardCharsets.UTF_8)).getString("address");
  }

  private Child hub(EtcdCluster etcd, int port) throws Exception {
    Child child = Child.java(List.of("-XX:+UseSerialGC", "-Dspoke.log.level=warn"), HubMain.class, "--port", String.valueOf(port),
      "--http-port", "-1", "--heartbeat-interval", "200", "--etcd", etcd.endpoints(), "--etcd-prefix", PREFIX, "--lease-ttl", "2000");
    child.await("Spoke hub listening on", 60_000);
    return child;
  }

  private void failovers(EtcdCluster etcd, Client reader) throws Exception {
    int[] ports = new int[3];
    Child[] hubs = new Child[3];
    List<String> addresses = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      try (ServerSocket socket = new ServerSocket(0)) {
        ports[i] = socket.getLocalPort();
      }
      addresses.add("127.0.0.1:" + ports[i]);
    }
    AgentVerticle agent = null;
    SpokeClient via = null;
    try {
      for (int i = 0; i < 3; i++) {
        hubs[i] = hub(etcd, ports[i]);
      }
      agent = new AgentVerticle(new AgentOptions().setHubAddresses(addresses).setNodeId("ha-node").setGpus(8).setWarmPool(0).setReconnectInterval(50)
        .setLogDir(out.resolve("logs").toString()));
      await(vertx.deployVerticle(agent));
      await(agent.registered());
      via = onContext(context, () -> SpokeClient.create(vertx, new SpokeClientOptions().setHubAddresses(addresses)
        .setRequestTimeout(2_000)));
      int rounds = quick ? 3 : 10;
      double[] ms = new double[rounds];
      for (int r = 0; r < rounds; r++) {
        allocateAndRelease(via, 60_000);
        String leader = leader(reader);
        int killed = addresses.indexOf(leader);
        if (killed < 0) {
          throw new IllegalStateException("the leader " + leader + " is none of the hubs " + addresses);
        }
        long start = System.nanoTime();
        hubs[killed].process.destroyForcibly();
        allocateAndRelease(via, 60_000);
        ms[r] = (System.nanoTime() - start) / 1e6;
        hubs[killed].process.waitFor(10, TimeUnit.SECONDS);
        hubs[killed] = hub(etcd, ports[killed]);
      }
      emit(new Metric("hub_failover_to_allocate_p50", Latencies.median(ms), "ms", null, String.format(
        "the leader of 3 hubs SIGKILLed (lease 2 s) until the next gang allocation is answered, %d failovers; goal 3,000 ms; "
          + "Kubernetes' leader election: 15 s lease", rounds)));
      emit(new Metric("hub_failover_to_allocate_p99", Latencies.percentile(ms, 99), "ms", null, "goal 5,000 ms"));
      emit(new Metric("etcd_state_per_gang_of_8", stateBytes(via, reader), "bytes", null,
        "keys and values of one ticket of 8 ranks (on one node) in etcd"));
    } finally {
      if (via != null) {
        await(via.close());
      }
      if (agent != null) {
        await(vertx.undeploy(agent.deploymentID()));
      }
      for (Child hub : hubs) {
        if (hub != null) {
          hub.close();
        }
      }
    }
  }

  /** Allocates a gang of one GPU and releases it, asking again (every 10 ms) while no hub leads or the node is not back. */
  private static void allocateAndRelease(SpokeClient via, long timeoutMs) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try {
        Allocation allocation = via.gangAllocate(new GangRequest().setActorsPerNode(1).setGpus(1).setWaitForResources(false))
          .await(5, TimeUnit.SECONDS);
        via.release(allocation.ticketId()).await(10, TimeUnit.SECONDS);
        return;
      } catch (Exception e) {
        last = e;
        Thread.sleep(10);
      }
    }
    throw new IllegalStateException("no allocation answered within " + timeoutMs + " ms: " + last, last);
  }

  /** The bytes (keys and values) under a ticket of 8 ranks. */
  private static double stateBytes(SpokeClient via, Client reader) throws Exception {
    Allocation allocation = via.gangAllocate(new GangRequest().setActorsPerNode(8).setGpus(1)).await(30, TimeUnit.SECONDS);
    try {
      ByteSequence key = ByteSequence.from(PREFIX + "/t/" + allocation.ticketId(), StandardCharsets.UTF_8);
      long bytes = 0;
      for (KeyValue kv : reader.getKVClient().get(key, GetOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS).getKvs()) {
        bytes += kv.getKey().size() + kv.getValue().size();
      }
      return bytes;
    } finally {
      via.release(allocation.ticketId()).await(10, TimeUnit.SECONDS);
    }
  }
}
