// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.run;

import io.spoke.vertx.AuthenticationException;
import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.AgentVerticle;
import io.spoke.vertx.agent.Dismissal;
import io.spoke.vertx.client.NodeInfo;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.hub.HubVerticle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * {@code spoke run --slurm}: one task of a Slurm step, run by {@code srun} once per node. Every task runs an agent
 * that offers its node's share of the step (Slurm's GPUs and CPUs); the task on the step's first node also runs the
 * hub and, once every node's agent has registered, the gang of N x K ranks ({@link RunMain.Run}). When the run ends
 * the hub dismisses every agent with the run's exit status, so that every task, hence {@code srun}, exits with it.
 * <p>
 * Ports: a step's blocks of {@link #BLOCK} ports in {@value #FIRST}-{@value #LAST} (below the kernel's ephemeral
 * ports) follow from the job and step ids, so that two jobs sharing a node take different ones. The first port of
 * block 0 is the hub's (of block 1, 2.. if taken: tasks on other nodes look for the hub there in order); the rest of
 * block i are node i's rendezvous and rank ports, each checked free by binding it. Agents listen for their actor
 * processes on a loopback port the kernel picks. The cluster's token is derived
 * from the user's ({@code SPOKE_TOKEN} or {@code --token-file}, which only that user can read) and the job and step,
 * so that two steps of one user never join each other's cluster.
 */
final class SlurmRun {

  static final int FIRST = 20_000;
  static final int LAST = 32_767;
  static final int BLOCK = 64;
  /** How many blocks the hub tries, the step's own and the ones after it. */
  static final int HUB_CANDIDATES = 8;
  /** How often the hub's task asks whether every node has registered, while the cluster forms. */
  static final long NODE_POLL_MS = 100;
  /** How long the other tasks wait for a hub that is gone without dismissing them before they end. */
  static final long HUB_LOST_MS = 10_000;

  private final RunMain.Request request;
  private final SlurmStep step;
  private final SecurityOptions security;
  private final PrintStream out;
  private final PrintStream err;
  private final Vertx vertx = Vertx.vertx();
  private volatile RunMain.Run run;

  SlurmRun(RunMain.Request request, SlurmStep step, byte[] userToken, PrintStream out, PrintStream err) {
    this.request = request;
    this.step = step;
    this.security = new SecurityOptions().setToken(stepToken(userToken, step.jobId(), step.stepId()));
    this.out = out;
    this.err = err;
  }

  /** {@code spoke run --slurm}: this task's part of the step (see {@link SlurmRun}); 2 when the step does not fit. */
  static int start(RunMain.Request request) {
    SlurmStep step;
    byte[] token;
    try {
      step = SlurmStep.read(System.getenv(), SlurmStep.SCONTROL);
      int wanted = request.perNode() * request.gpus();
      if (wanted > step.gpus().size()) {
        throw new IllegalArgumentException("--per-node " + request.perNode() + " x --gpus " + request.gpus() + " needs " + wanted
          + " GPUs on each node, but this step has " + step.gpus().size() + " on node " + step.name()
          + (step.gpus().isEmpty() ? "" : " (" + String.join(",", step.gpus()) + ")")
          + ": ask srun for --gres=gpu:" + wanted + ", or run fewer ranks per node");
      }
      token = new SecurityOptions().setTokenFile(request.tokenFile()).resolveToken();
      if (token == null) {
        throw new IllegalArgumentException("--slurm needs the cluster's secret, which every task must share and nobody else may read: "
          + "export SPOKE_TOKEN=$(./spoke token) before srun (srun passes it on), or give --token-file F on a file only you can read");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("spoke run: " + e.getMessage());
      return 2;
    }
    return new SlurmRun(request.onNodes(step.nodes().size()), step, token, System.out, System.err).run();
  }

  /** The step's token: HMAC-SHA256 of the user's token over the job and step ids, base64url. */
  static String stepToken(byte[] userToken, long jobId, long stepId) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(userToken, "HmacSHA256"));
      byte[] proof = mac.doFinal(("spoke-slurm-step|" + jobId + "." + stepId).getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(proof);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is missing from this JVM", e);
    }
  }

  /** The first port of the step's {@code i}-th block (0: its own; the hub's later candidates follow it). */
  static int blockStart(long jobId, long stepId, int i) {
    int blocks = (LAST - FIRST + 1) / BLOCK;
    long mixed = mix(jobId * 1_000_003L + stepId);
    return FIRST + (int) Math.floorMod(mixed + i, (long) blocks) * BLOCK;
  }

  /** A 64-bit finalizer (SplitMix64's), so that consecutive job ids land on unrelated blocks. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** Runs this task; its exit status: the run's (0, or the first failing rank's), 1 when the cluster cannot form. */
  int run() {
    Thread hook = new Thread(this::terminated, "spoke-run-slurm-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      return step.runsHub() ? runHubNode() : runOtherNode();
    } catch (Exception e) {
      err.println("spoke run --slurm: " + message(e));
      return 1;
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs and closes Vert.x
      }
      close();
    }
  }

  private int runHubNode() throws Exception {
    HubVerticle hub = startHub();
    int status = 1;
    String reason;
    try {
      startAgent(step.address(), hub.actualPort());
      SpokeClient client = SpokeClient.create(vertx, new SpokeClientOptions().setHubHost(step.address()).setHubPort(hub.actualPort())
        .setSecurity(new SecurityOptions(security)));
      awaitNodes(client);
      run = new RunMain.Run(request, out, err, () -> client, false);
      status = run.run();
      reason = status == 0 ? "the run on " + step.nodes().size() + " nodes is over; every rank exited 0"
        : "the run is over: it failed with status " + status + " (node " + step.name() + "'s output says why)";
    } catch (Exception e) {
      reason = "the run could not start on node " + step.name() + ": " + message(e);
      err.println("spoke run --slurm: " + message(e));
    }
    try {
      hub.dismissAgents(status, reason).await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      err.println("spoke run --slurm: could not tell every node that the run is over: " + message(e));
    }
    return status;
  }

  /** The hub, on the first of its candidate ports that is free on this node's address. */
  private HubVerticle startHub() {
    List<String> taken = new ArrayList<>();
    for (int i = 0; i < HUB_CANDIDATES; i++) {
      int port = blockStart(step.jobId(), step.stepId(), i);
      HubVerticle hub = new HubVerticle(new HubOptions().setHost(step.address()).setPort(port).setHttpPort(-1)
        .setSecurity(new SecurityOptions(security)));
      try {
        vertx.deployVerticle(hub).await(30, TimeUnit.SECONDS);
        return hub;
      } catch (Exception e) {
        taken.add(port + " (" + message(e) + ")");
      }
    }
    throw new IllegalStateException("the hub found none of its ports free on " + step.address() + ": " + String.join(", ", taken));
  }

  /** Waits until every node of the step has its agent registered: the gang is placed on all of them. */
  private void awaitNodes(SpokeClient client) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(request.timeoutMs());
    while (true) {
      Set<String> registered = new HashSet<>();
      for (NodeInfo node : client.status().await(request.timeoutMs(), TimeUnit.MILLISECONDS).nodes()) {
        if (node.alive()) {
          registered.add(node.id());
        }
      }
      List<String> missing = new ArrayList<>();
      for (String name : step.nodes()) {
        if (!registered.contains(nodeId(name))) {
          missing.add(name);
        }
      }
      if (missing.isEmpty()) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the agents of " + missing.size() + " of the step's " + step.nodes().size() + " nodes did not "
          + "register within " + request.timeoutMs() + " ms (--timeout): " + String.join(", ", missing) + "; their tasks' output says why");
      }
      Thread.sleep(NODE_POLL_MS);
    }
  }

  private int runOtherNode() throws Exception {
    String hubAddress = step.addresses().get(0);
    int hubPort = findHub(hubAddress);
    AgentVerticle agent = startAgent(hubAddress, hubPort);
    Future<Dismissal> dismissed = agent.dismissed();
    long lostSince = -1;
    // Until the hub says the run is over; its task may also die without a word (SIGKILL, its node lost).
    while (!dismissed.isComplete()) {
      Thread.sleep(NODE_POLL_MS * 5);
      boolean connected = agent.connectedToHub().await(10, TimeUnit.SECONDS);
      long now = System.nanoTime();
      if (connected || dismissed.isComplete()) {
        lostSince = -1;
      } else if (lostSince < 0) {
        lostSince = now;
      } else if (now - lostSince > TimeUnit.MILLISECONDS.toNanos(HUB_LOST_MS)) {
        err.println("spoke run --slurm: node " + step.name() + ": the hub at " + hubAddress + ":" + hubPort + " (node "
          + step.nodes().get(0) + ") has been gone for " + HUB_LOST_MS / 1000 + " s without ending the run; stopping this node's ranks");
        return 1;
      }
    }
    Dismissal dismissal = dismissed.result();
    err.println("spoke run --slurm: node " + step.name() + ": " + dismissal.reason());
    return dismissal.exitStatus();
  }

  private static String message(Throwable e) {
    return e.getMessage() != null ? e.getMessage() : e.toString();
  }

  /**
   * Finds the step's hub among its candidate ports on the first node: the first that welcomes the step's token (a
   * port that refuses it is another cluster's, and is not asked again). Waits for the hub to come up within the run's
   * timeout.
   */
  private int findHub(String address) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(request.timeoutMs());
    Set<Integer> foreign = new HashSet<>();
    String last = "nothing answered";
    while (System.nanoTime() < deadline) {
      for (int i = 0; i < HUB_CANDIDATES; i++) {
        int port = blockStart(step.jobId(), step.stepId(), i);
        if (foreign.contains(port)) {
          continue;
        }
        SpokeClient probe = SpokeClient.create(vertx, new SpokeClientOptions().setHubHost(address).setHubPort(port)
          .setConnectTimeout(2_000).setRequestTimeout(5_000).setSecurity(new SecurityOptions(security)));
        try {
          probe.status().await(10, TimeUnit.SECONDS);
          return port;
        } catch (AuthenticationException e) {
          foreign.add(port);
          last = address + ":" + port + " is another cluster's hub";
        } catch (Exception e) {
          last = address + ":" + port + ": " + e.getMessage();
        } finally {
          probe.close().await(10, TimeUnit.SECONDS);
        }
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("found no hub of this step on node " + step.nodes().get(0) + " (" + address + ") within "
      + request.timeoutMs() + " ms (--timeout); last: " + last);
  }

  private AgentVerticle startAgent(String hubAddress, int hubPort) throws Exception {
    // Node i's rendezvous and rank ports: the step's i-th block but its first port (a hub candidate), so that nodes
    // that share an address (several slurmd on one host) do not hand out the same ports either.
    // A node whose ranks want more ports than a block holds takes several blocks in a row.
    int ranksPorts = request.perNode() * request.spec().getPorts();
    int span = (ranksPorts + 8) / BLOCK + 1;
    int base = blockStart(step.jobId(), step.stepId(), step.node() * span);
    int first = base + 1;
    int last = Math.min(65_535, base + span * BLOCK - 1);
    Path logs = Paths.get("spoke-logs", "slurm-" + step.jobId() + "." + step.stepId(), step.name()).toAbsolutePath();
    AgentOptions options = new AgentOptions().setHubHost(hubAddress).setHubPort(hubPort).setAdvertiseHost(step.address())
      .setNodeId(nodeId(step.name())).setMasterPortRange(first + "-" + last).setLogDir(logs.toString())
      .setSecurity(new SecurityOptions(security))
      // spoke run starts processes: warm Java actor hosts would only cost memory.
      .setWarmPool(0);
    if (step.cpus() > 0) {
      options.setCpus(step.cpus());
    }
    int simulated = simulatedGpus(step.gpus());
    if (simulated >= 0) {
      options.setGpus(simulated);
    }
    AgentVerticle agent = new AgentVerticle(options);
    vertx.deployVerticle(agent).await(60, TimeUnit.SECONDS);
    err.println("spoke run --slurm: job " + step.jobId() + " step " + step.stepId() + ", node " + step.name() + " (" + step.address()
      + ", " + (step.node() + 1) + " of " + step.nodes().size() + "): " + (step.runsHub() ? "hub on " + step.address() + ":" + hubPort
      : "hub at " + hubAddress + ":" + hubPort) + ", agent on 127.0.0.1:" + agent.actualPort() + ", rendezvous and rank ports "
      + first + "-" + last + ", GPUs " + (step.gpus().isEmpty() ? "none" : String.join(",", step.gpus())));
    try {
      agent.registered().await(request.timeoutMs(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new IllegalStateException("node " + step.name() + "'s agent did not register with the hub at " + hubAddress + ":" + hubPort
        + " within " + request.timeoutMs() + " ms (--timeout)");
    }
    return agent;
  }

  /**
   * The simulated GPUs to offer where this node has no {@code nvidia-smi} but Slurm gave the step GPUs (GRES on
   * devices without a driver): as many as cover the indexes Slurm named, which {@code CUDA_VISIBLE_DEVICES} then
   * narrows to exactly those. -1 (ask {@code nvidia-smi}) where it is installed or the step has no GPUs.
   */
  static int simulatedGpus(List<String> gpus) {
    if (gpus.isEmpty() || nvidiaSmiInstalled()) {
      return -1;
    }
    int max = -1;
    for (String gpu : gpus) {
      try {
        max = Math.max(max, Integer.parseInt(gpu));
      } catch (NumberFormatException uuid) {
        throw new IllegalArgumentException("Slurm named GPU " + gpu + " but this node has no nvidia-smi to find it by");
      }
    }
    return max + 1;
  }

  private static boolean nvidiaSmiInstalled() {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(":")) {
      if (!dir.isEmpty() && Paths.get(dir, "nvidia-smi").toFile().canExecute()) {
        return true;
      }
    }
    return false;
  }

  /** A node id from a Slurm node name (ids take letters, digits, '-', '_' and '.'). */
  static String nodeId(String name) {
    StringBuilder id = new StringBuilder(name.length());
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      id.append((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ? c : '_');
    }
    return id.toString();
  }

  /** SIGTERM (scancel, a time limit): the hub's task stops every rank and releases; every task closes its agent. */
  private void terminated() {
    RunMain.Run current = run;
    if (current != null) {
      current.interrupted();
    }
    close();
  }

  private void close() {
    try {
      vertx.close().await(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      // exiting anyway: the ranks get their parent-death signal
    }
  }
}
