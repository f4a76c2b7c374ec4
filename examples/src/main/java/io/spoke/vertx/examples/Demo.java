// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.AgentVerticle;
import io.spoke.vertx.agent.process.GpuDiscovery;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.ClientMain;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.ManagedProcess;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.Readiness;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.examples.gang.GangExample;
import io.spoke.vertx.examples.hello.MyActor;
import io.spoke.vertx.examples.rdma.RdmaExample;
import io.spoke.vertx.examples.stream.LlmService;
import io.spoke.vertx.examples.task.ComplexTask;
import io.spoke.vertx.examples.task.TaskService;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.hub.HubVerticle;
import io.spoke.vertx.serialization.Serializers;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./spoke demo}: a hub and two agents embedded in this JVM, actors in processes of their own. Spawns
 * the example actors, calls them, streams pushed tokens, stops them, and prints what happened.
 * Exits 0 when every step worked.
 */
public final class Demo {

  static final String USAGE = String.join("\n",
    "usage: spoke demo",
    "  Runs a hub and two agents in this JVM (node-a with this machine's GPUs, or 8 simulated ones where nvidia-smi finds",
    "  none; node-b with 8 simulated), then spawns the example actors, each in a process of its own, and shows them at",
    "  work: plain and proxy calls, streams, calls over RDMA (TCP where UCX is missing), the cluster's status, a 2 x 4",
    "  gang, two managed HTTP servers (python3), a spawn that takes a warm actor host against a cold one, and stopping",
    "  everything. Prints each step; exits 0 when all worked.",
    "  It takes no options: SPOKE_JAVA_OPTS reaches its JVM, and the actors' logs land in ./spoke-logs.");

  private static final long STEP_TIMEOUT_S = 120;

  private Demo() {
  }

  public static void main(String[] args) {
    // Before anything starts: the demo takes no arguments, so any but --help is a mistake worth pointing out.
    List<String> list = List.of(args);
    if (list.contains("--help") || list.contains("-h")) {
      System.out.println(USAGE);
      System.exit(0);
    }
    if (!list.isEmpty()) {
      System.err.println("spoke demo: unexpected argument '" + list.get(0) + "' (it takes none)\n" + USAGE);
      System.exit(2);
    }
    long start = System.nanoTime();
    Vertx vertx = Vertx.vertx();
    int status = 1;
    try {
      run(vertx);
      System.out.printf("%nDemo finished in %.1f s.%n", (System.nanoTime() - start) / 1e9);
      status = 0;
    } catch (Exception e) {
      System.out.println();
      System.out.println("Demo failed: " + (e.getMessage() != null ? e.getMessage() : e.toString()));
    } finally {
      try {
        vertx.close().await(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        System.out.println("Closing Vert.x failed: " + e);
      }
    }
    System.exit(status);
  }

  static void run(Vertx vertx) throws Exception {
    System.out.println("Spoke demo: an embedded hub and agent; every actor runs in its own process.");

    // A cluster token for this run: every connection (client, agents, actor processes) proves it holds it.
    byte[] random = new byte[32];
    new java.security.SecureRandom().nextBytes(random);
    SecurityOptions security = new SecurityOptions().setToken(java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(random));
    HubVerticle hub = new HubVerticle(new HubOptions().setPort(0).setSecurity(security));
    await(vertx.deployVerticle(hub));
    System.out.println("  hub listening on 127.0.0.1:" + hub.actualPort() + ", with a cluster token generated for this run");
    if (hub.httpUrl() != null) {
      System.out.println("  status page at " + hub.httpUrl() + " while the demo runs (log in with this run's token: "
        + security.getToken() + ")");
    }

    boolean realGpus = !GpuDiscovery.discover(-1, System.getenv("CUDA_VISIBLE_DEVICES")).isEmpty();
    AgentOptions agentOptions = new AgentOptions().setHubPort(hub.actualPort()).setNodeId("node-a").setGpus(realGpus ? -1 : 8)
      .setSecurity(security);
    AgentVerticle agent = new AgentVerticle(agentOptions);
    await(vertx.deployVerticle(agent));
    await(agent.registered());
    System.out.println("  agent registered as node " + agent.nodeId() + (realGpus ? " with this machine's GPUs"
      : " with 8 simulated GPUs (no nvidia-smi here)") + "; actor logs in ./" + agentOptions.getLogDir());
    // A second node for the gang: in a cluster, an agent per machine; here, a second agent in this JVM.
    AgentVerticle second = new AgentVerticle(new AgentOptions(agentOptions).setNodeId("node-b").setGpus(8));
    await(vertx.deployVerticle(second));
    await(second.registered());
    System.out.println("  agent registered as node " + second.nodeId() + " with 8 simulated GPUs");

    SpokeClient client = SpokeClient.create(vertx, new SpokeClientOptions().setHubPort(hub.actualPort()).setSecurity(security));

    System.out.println();
    System.out.println("1. Define an actor and spawn it (the spawn returns once the actor's process is listening)");
    long t0 = System.nanoTime();
    ActorHandle hello = await(client.spawn("MyActor", "actor_instance_1"));
    System.out.printf("   spawned MyActor 'actor_instance_1' in %d ms: pid %d, listening on %s:%d%n", millisSince(t0),
      hello.info().pid(), hello.info().host(), hello.info().port());
    String greeting = await(hello.call(MyActor.HELLO, null, Serializers.VOID, Serializers.STRING));
    System.out.println("   call 0x01 -> \"" + greeting + "\"");

    System.out.println();
    System.out.println("2. A service interface: Spoke generates the client proxy and the actor's dispatcher");
    ActorHandle worker = await(client.spawn("TaskActor", "worker_0", new SpawnOptions().setGpus(1)));
    System.out.println("   spawned TaskActor 'worker_0' with GPU " + worker.info().gpuIds() + ", pid " + worker.info().pid());
    TaskService tasks = TaskService.createProxy(client, "worker_0");
    ComplexTask task = new ComplexTask(666, "ZeroCopyCheck", List.of(1.0, 2.0));
    System.out.println("   process(" + task + ") -> \"" + await(tasks.process(task)) + "\"");
    System.out.println("   devices() -> " + await(tasks.devices()));

    System.out.println();
    System.out.println("3. Streams: a reply token by token, with back-pressure; and pushes to a client mailbox");
    ActorHandle streamer = await(client.spawn("LlmActor", "llm_0"));
    LlmService llm = LlmService.createProxy(client, "llm_0");
    List<String> streamed = new java.util.concurrent.CopyOnWriteArrayList<>();
    Promise<Void> ended = Promise.promise();
    llm.generate("hello").handler(streamed::add).exceptionHandler(ended::tryFail).endHandler(ended::tryComplete);
    await(ended.future());
    System.out.println("   generate(\"hello\") streamed " + streamed.size() + " tokens: " + String.join(" ", streamed));
    List<String> pushed = new ArrayList<>();
    await(streamer.subscribe(LlmService.TOKENS, token -> pushed.add(token.toString())));
    int count = await(llm.broadcast("hello"));
    if (pushed.size() != count) {
      throw new IllegalStateException("expected " + count + " pushed tokens, received " + pushed.size());
    }
    System.out.println("   broadcast(\"hello\") returned " + count + "; mailbox " + LlmService.TOKENS + " received them all first");

    System.out.println();
    System.out.println("4. Calls go straight from client to actor process, not through the hub or agent");
    int calls = 5_000;
    await(sequentialCalls(hello, 500));
    long t1 = System.nanoTime();
    await(sequentialCalls(hello, calls));
    double seconds = (System.nanoTime() - t1) / 1e9;
    System.out.printf("   %d sequential calls (each sent when the previous reply arrives) in %.2f s: %.0f calls/s, %.0f us per round"
      + " trip%n", calls, seconds, calls / seconds, seconds * 1e6 / calls);
    System.out.println("   (./spoke bench measures this against a plain socket echo on the same machine)");

    System.out.println();
    System.out.println("5. Zero-copy RDMA (UCX): initRdma, then the same proxy call goes over it, serialized into registered memory");
    String viaRdma = await(RdmaExample.run(client, "worker_0", indented()));
    System.out.println("   process(" + task + ") -> \"" + viaRdma + "\"");
    int rdmaCalls = 2_000;
    await(sequentialCalls(tasks, task, 200));
    long t2 = System.nanoTime();
    await(sequentialCalls(tasks, task, rdmaCalls));
    double rdmaSeconds = (System.nanoTime() - t2) / 1e9;
    System.out.printf("   %d sequential calls in %.2f s: %.0f us per round trip (./spoke bench compares the RDMA path with ucx_perftest)%n",
      rdmaCalls, rdmaSeconds, rdmaSeconds * 1e6 / rdmaCalls);

    System.out.println();
    System.out.println("6. The cluster as the hub sees it (./spoke status prints the same)");
    ClusterStatus status = await(client.status());
    ClientMain.print(status, indented());

    System.out.println();
    System.out.println("7. Gang scheduling: reserve 2 nodes x 4 ranks with 1 GPU each (STRICT_PACK) all at once, launch, call, release");
    int perNode = (int) Math.min(4, status.nodes().stream().mapToLong(n -> n.freeGpus().size()).min().orElse(0));
    if (perNode == 0) {
      throw new IllegalStateException("a node has no free GPU for the gang");
    }
    await(GangExample.run(client, 2, perNode, System.out));

    System.out.println();
    System.out.println("8. Any command as a managed process: 2 ranks of a Python HTTP server, each on a port of its own, ready when it"
      + " answers");
    Allocation servers = await(client.gangAllocate(new GangRequest().setNodes(1).setActorsPerNode(2)));
    for (int rank = 0; rank < 2; rank++) {
      ManagedProcess server = await(client.launchProcess(servers.ticketId(), rank, "web-" + rank,
        new ProcessSpec(List.of("sh", "-c", "exec python3 -m http.server --bind 127.0.0.1 $SPOKE_PORT_0")).setPorts(1)
          .setReady(Readiness.http("http://127.0.0.1:${SPOKE_PORT_0}/"))));
      System.out.println("   rank " + rank + ": " + server.id() + " on " + server.info().nodeId() + ", pid " + server.info().pid()
        + ", its own port " + server.ports().get(0) + " (SPOKE_PORT_0), answering");
    }
    await(client.release(servers.ticketId()));
    System.out.println("   released the ticket: both servers stopped, whole process trees (./spoke run does all this from a shell)");

    System.out.println();
    System.out.println("9. Warm actor hosts: each agent keeps JVMs started ahead; a spawn that takes one skips the JVM's start");
    long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (await(agent.warmHostsIdle()) == 0 && System.nanoTime() < waitUntil) {
      Thread.sleep(50);
    }
    long warmStart = System.nanoTime();
    ActorHandle quick = await(client.spawn("MyActor", "quick_1", new SpawnOptions().setNode(agent.nodeId())));
    long warmMs = millisSince(warmStart);
    long coldStart = System.nanoTime();
    ActorHandle cold = await(client.spawn("MyActor", "cold_1", new SpawnOptions().setNode(agent.nodeId()).setColdStart(true)));
    System.out.printf("   spawned 'quick_1' in %d ms (a warm host), 'cold_1' in %d ms (setColdStart: a JVM of its own)%n", warmMs,
      millisSince(coldStart));
    System.out.println("   quick_1 says \"" + await(quick.call(MyActor.HELLO, null, Serializers.VOID, Serializers.STRING)) + "\"");

    System.out.println();
    System.out.println("10. Stop every actor (graceful stop, then SIGKILL of its process group after a timeout)");
    for (ActorHandle actor : List.of(hello, worker, streamer, quick, cold)) {
      await(actor.stop());
      boolean alive = ProcessHandle.of(actor.info().pid()).map(ProcessHandle::isAlive).orElse(false);
      System.out.println("   stopped " + actor.id() + " (process " + actor.info().pid() + (alive ? " still alive!" : " gone") + ")");
      if (alive) {
        throw new IllegalStateException("process " + actor.info().pid() + " of " + actor.id() + " outlived its stop");
      }
    }
    ClusterStatus after = await(client.status());
    System.out.println("   actors left: " + after.actors().size() + ", tickets left: " + after.tickets().size() + "; free GPUs: "
      + after.nodes().stream().mapToInt(n -> n.freeGpus().size()).sum() + " of " + after.nodes().stream().mapToInt(n -> n.gpus().size()).sum());
    await(client.close());
    // Agents first, so that they do not see their hub go away.
    await(vertx.undeploy(agent.deploymentID()));
    await(vertx.undeploy(second.deploymentID()));
  }

  /** {@code count} calls, one at a time, issued from the client's event loop as each reply arrives. */
  static Future<Void> sequentialCalls(ActorHandle actor, int count) {
    Promise<Void> done = Promise.promise();
    Handler<AsyncResult<String>> next = new Handler<>() {
      private int completed;

      @Override
      public void handle(AsyncResult<String> ar) {
        if (ar.failed()) {
          done.tryFail(ar.cause());
        } else if (++completed == count) {
          done.complete();
        } else {
          actor.call(MyActor.HELLO, null, Serializers.VOID, Serializers.STRING).onComplete(this);
        }
      }
    };
    actor.call(MyActor.HELLO, null, Serializers.VOID, Serializers.STRING).onComplete(next);
    return done.future();
  }

  /** {@code count} proxy calls, one at a time. */
  static Future<Void> sequentialCalls(TaskService tasks, ComplexTask task, int count) {
    Future<String> chain = Future.succeededFuture();
    for (int i = 0; i < count; i++) {
      chain = chain.compose(v -> tasks.process(task));
    }
    return chain.mapEmpty();
  }

  private static java.io.PrintStream indented() {
    return new java.io.PrintStream(System.out, true) {
      @Override
      public void println(String x) {
        super.println("  " + x);
      }

      @Override
      public java.io.PrintStream printf(String format, Object... args) {
        return super.printf("  " + format, args);
      }
    };
  }

  private static long millisSince(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.await(STEP_TIMEOUT_S, TimeUnit.SECONDS);
  }
}
