// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.run;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.AgentVerticle;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.ManagedProcess;
import io.spoke.vertx.client.PlacementStrategy;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.Readiness;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.hub.HubVerticle;
import io.spoke.vertx.internal.CommandLine;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.PrintStream;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code spoke run}: gang-allocates N x K ranks, launches a command on every slot as a managed process, prints every
 * line of every rank prefixed with {@code [rank R] }, waits for all, releases the ticket, and exits 0 when every rank
 * exited 0, else with the exit status of the first rank that failed, after stopping the others (as torchrun does).
 * Ctrl-C or SIGTERM stops every rank and releases the ticket. Without {@code --hub} it runs an embedded hub and N
 * agents (simulated GPUs) in this JVM, like the demo.
 */
public final class RunMain {

  static final String USAGE = String.join("\n",
    "usage: spoke run [--hub HOST:PORT[,HOST:PORT...]] --nodes N --per-node K [--gpus G] [--cpus C] [--strategy S] [--ports P]",
    "                 [--env KEY=VALUE]... [--workdir DIR] [--ready tcp:PORT|http:URL|log:REGEX] [--timeout MS]",
    "                 [--restart never|on-failure|always] [--max-restarts R] [--restart-window MS] [--backoff MS]",
    "                 [--gang-restart]",
    "                 [--detach] [--token-file F] [--gpus-per-node G] -- COMMAND [ARGS...]",
    "       srun -N N --ntasks-per-node=1 [--gres=gpu:G] spoke run --slurm --per-node K [options] -- COMMAND [ARGS...]",
    "       spoke stop TICKET [--hub HOST:PORT[,HOST:PORT...]] [--token-file F]",
    "  --nodes N, --per-node K  N x K ranks (defaults 1 and 1); --gpus G GPUs per rank (default 0), --cpus C CPUs per rank",
    "  --strategy S             strict_pack, pack, spread or strict_spread (default: the hub's)",
    "  --ports P                P ports reserved per rank, as SPOKE_PORT_0.. in its environment",
    "  --ready SPEC             when a rank counts as started (default: at once)",
    "  --timeout MS             for the allocation (waiting for room) and for each rank to be ready (default 60000)",
    "  --restart P              start a rank that dies again in place (same node, GPUs, ports): never (default),",
    "                           on-failure or always, at most --max-restarts R (3) times within --restart-window MS",
    "                           (600000), after --backoff MS (1000, doubling); SPOKE_ATTEMPT counts the starts",
    "  --gang-restart           the policy restarts the whole gang: one rank's failure stops every rank and starts all",
    "                           again on their slots (same MASTER_ADDR/PORT, SPOKE_PORT_i; SPOKE_ATTEMPT counting)",
    "  --detach                 print the ticket id and return; the ranks run on until `spoke stop TICKET`",
    "  --gpus-per-node G        without --hub: the embedded agents' simulated GPUs (default 8)",
    "  --slurm                  run as the tasks of a Slurm step, one per node: each runs an agent offering its node's",
    "                           share of the step (Slurm's GPUs and CPUs), the first node's also the hub and the gang of",
    "                           nodes x K ranks; every task exits with the run's status. The cluster's token is derived",
    "                           from SPOKE_TOKEN (export it before srun) or --token-file, and the job and step ids; see",
    "                           docs/slurm.md",
    "  Every rank gets RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT, CUDA_VISIBLE_DEVICES,",
    "  SPOKE_TICKET, SPOKE_NODE_IP, SPOKE_PORT_i and SPOKE_ATTEMPT; ${VAR} in ARGS is the shell's business.");

  /** How often each rank's log is read while it runs. */
  static final long POLL_MS = 100;
  static final int CHUNK = 256 * 1024;

  private RunMain() {
  }

  /** What the command line asks for. */
  record Request(String hub, int nodes, int perNode, int gpus, int cpus, PlacementStrategy strategy, ProcessSpec spec, long timeoutMs,
                 boolean detach, String tokenFile, int gpusPerNode, RestartPolicy restart, boolean gangRestart, boolean slurm) {

    /** The same request on {@code n} nodes (a Slurm step's). */
    Request onNodes(int n) {
      return new Request(hub, n, perNode, gpus, cpus, strategy, spec, timeoutMs, detach, tokenFile, gpusPerNode, restart, gangRestart, slurm);
    }
  }

  public static void main(String[] args) throws Exception {
    List<String> list = new ArrayList<>(Arrays.asList(args));
    if (!list.isEmpty() && list.get(0).equals("stop")) {
      list.remove(0);
      System.exit(stop(list));
    }
    int dashes = list.indexOf("--");
    List<String> options = dashes < 0 ? list : list.subList(0, dashes);
    if (options.contains("--help") || options.contains("-h")) {
      System.out.println(USAGE);
      System.exit(0);
    }
    Request request;
    try {
      request = parse(list);
    } catch (IllegalArgumentException e) {
      System.err.println("spoke run: " + e.getMessage() + "\n" + USAGE);
      System.exit(2);
      return;
    }
    if (request.slurm()) {
      System.exit(SlurmRun.start(request));
    }
    System.exit(new Run(request, System.out, System.err).run());
  }

  /** Reads the command line: options, then {@code --}, then the command. */
  static Request parse(List<String> args) {
    int dashes = args.indexOf("--");
    if (dashes < 0) {
      throw new IllegalArgumentException("the command goes after --, as in: spoke run --nodes 1 --per-node 2 -- python3 train.py");
    }
    List<String> command = new ArrayList<>(args.subList(dashes + 1, args.size()));
    List<String> options = new ArrayList<>(args.subList(0, dashes));
    if (command.isEmpty()) {
      throw new IllegalArgumentException("no command after --");
    }
    boolean detach = options.remove("--detach");
    boolean gangRestart = options.remove("--gang-restart");
    boolean slurm = options.remove("--slurm");
    if (slurm) {
      for (String cluster : List.of("--hub", "--nodes", "--detach", "--gpus-per-node")) {
        if (options.contains(cluster)) {
          throw new IllegalArgumentException(cluster + " does not go with --slurm: the Slurm step is the cluster (srun -N sets its nodes)");
        }
      }
    }
    String hub = CommandLine.take(options, "hub");
    int nodes = intOption(options, "nodes", 1, 1);
    int perNode = intOption(options, "per-node", 1, 1);
    int gpus = intOption(options, "gpus", 0, 0);
    int cpus = intOption(options, "cpus", 0, 0);
    int ports = intOption(options, "ports", 0, 0);
    int gpusPerNode = intOption(options, "gpus-per-node", 8, 0);
    long timeout = intOption(options, "timeout", 60_000, 1);
    String strategyName = CommandLine.take(options, "strategy");
    PlacementStrategy strategy = null;
    if (strategyName != null) {
      try {
        strategy = PlacementStrategy.valueOf(strategyName.toUpperCase(Locale.ROOT).replace('-', '_'));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--strategy is one of " + Arrays.toString(PlacementStrategy.values()).toLowerCase(Locale.ROOT)
          + ", got " + strategyName);
      }
    }
    ProcessSpec spec = new ProcessSpec(command).setPorts(ports);
    String workdir = CommandLine.take(options, "workdir");
    if (workdir != null) {
      spec.setWorkdir(java.nio.file.Paths.get(workdir).toAbsolutePath().normalize().toString());
    } else {
      spec.setWorkdir(System.getProperty("user.dir"));
    }
    String ready = CommandLine.take(options, "ready");
    if (ready != null) {
      spec.setReady(Readiness.parse(ready));
    }
    for (String env = CommandLine.take(options, "env"); env != null; env = CommandLine.take(options, "env")) {
      int eq = env.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--env takes KEY=VALUE, got '" + env + "'");
      }
      spec.addEnv(env.substring(0, eq), env.substring(eq + 1));
    }
    String restartMode = CommandLine.take(options, "restart");
    int maxRestarts = intOption(options, "max-restarts", RestartPolicy.DEFAULT_MAX_RESTARTS, 0);
    long window = intOption(options, "restart-window", (int) RestartPolicy.DEFAULT_WINDOW_MS, 0);
    long backoff = intOption(options, "backoff", (int) RestartPolicy.DEFAULT_BACKOFF_MS, 0);
    RestartPolicy restart = restartMode == null ? RestartPolicy.never()
      : RestartPolicy.of(RestartPolicy.mode(restartMode), maxRestarts, window, backoff);
    String tokenFile = CommandLine.take(options, "token-file");
    if (!options.isEmpty()) {
      throw new IllegalArgumentException("unexpected argument " + options.get(0));
    }
    if (detach && hub == null) {
      throw new IllegalArgumentException("--detach needs --hub: an embedded cluster ends with this command");
    }
    if (gangRestart && restart.mode() == RestartPolicy.Mode.NEVER) {
      restart = RestartPolicy.of(RestartPolicy.Mode.ON_FAILURE, maxRestarts, window, backoff);
    }
    return new Request(hub, nodes, perNode, gpus, cpus, strategy, spec, timeout, detach, tokenFile, gpusPerNode, restart, gangRestart, slurm);
  }

  private static int intOption(List<String> options, String flag, int fallback, int min) {
    String value = CommandLine.take(options, flag);
    if (value == null) {
      return fallback;
    }
    try {
      int n = Integer.parseInt(value);
      if (n < min) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--" + flag + " takes a whole number of at least " + min + ", got '" + value + "'");
    }
  }

  /** {@code spoke stop TICKET}: releases a (detached) ticket, stopping its ranks. */
  static int stop(List<String> args) throws Exception {
    if (args.contains("--help") || args.contains("-h")) {
      System.out.println(USAGE);
      return 0;
    }
    String hub;
    String tokenFile;
    try {
      hub = CommandLine.take(args, "hub");
      tokenFile = CommandLine.take(args, "token-file");
      if (args.size() != 1) {
        throw new IllegalArgumentException("stop takes one ticket id");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("spoke stop: " + e.getMessage() + "\n" + USAGE);
      return 2;
    }
    SpokeClient client = SpokeClient.create(clientOptions(hub, tokenFile));
    try {
      client.release(args.get(0)).await(120, TimeUnit.SECONDS);
      System.err.println("spoke stop: ticket " + args.get(0) + " released");
      return 0;
    } catch (Exception e) {
      System.err.println("spoke stop: " + e.getMessage());
      return 1;
    } finally {
      client.close().await(10, TimeUnit.SECONDS);
    }
  }

  static SpokeClientOptions clientOptions(String hub, String tokenFile) {
    SpokeClientOptions options = new SpokeClientOptions().setConnectTimeout(5_000).setRequestTimeout(15_000);
    if (hub != null) {
      options = new SpokeClientOptions(options.toJson().mergeIn(CommandLine.hubs("hub", hub)));
    }
    options.getSecurity().setTokenFile(tokenFile);
    return options;
  }

  /** One run: its cluster (embedded or not), its ticket, its ranks and their output. */
  static final class Run {

    private final Request request;
    private final PrintStream out;
    private final PrintStream err;
    private Vertx embedded;
    private SpokeClient client;
    private volatile String ticket;
    /** Set once the run stops its ranks (a rank failed, or Ctrl-C): their exits then are the stop's, not failures. */
    private volatile boolean stopping;
    private final AtomicInteger firstFailure = new AtomicInteger(-1);
    private final CountDownLatch done = new CountDownLatch(1);
    /** The cluster to run on: null for {@code --hub} or an embedded one. */
    private final Callable<SpokeClient> cluster;
    /** Whether this run stops its ranks at SIGTERM itself; else its embedding calls {@link #interrupted()}. */
    private final boolean ownHook;

    Run(Request request, PrintStream out, PrintStream err) {
      this(request, out, err, null, true);
    }

    Run(Request request, PrintStream out, PrintStream err, Callable<SpokeClient> cluster, boolean ownHook) {
      this.request = request;
      this.out = out;
      this.err = err;
      this.cluster = cluster;
      this.ownHook = ownHook;
    }

    int run() throws Exception {
      Thread hook = new Thread(this::interrupted, "spoke-run-stop");
      if (ownHook) {
        Runtime.getRuntime().addShutdownHook(hook);
      }
      try {
        client = cluster != null ? cluster.call()
          : request.hub() != null ? SpokeClient.create(clientOptions(request.hub(), request.tokenFile())) : startEmbedded();
        return launch();
      } catch (Exception e) {
        err.println("spoke run: " + e.getMessage());
        return 1;
      } finally {
        done.countDown();
        try {
          if (ownHook) {
            Runtime.getRuntime().removeShutdownHook(hook);
          }
        } catch (IllegalStateException shuttingDown) {
          // the hook runs: it releases the ticket
        }
        if (client != null) {
          client.close().await(10, TimeUnit.SECONDS);
        }
        if (embedded != null) {
          embedded.close().await(30, TimeUnit.SECONDS);
        }
      }
    }

    /** An embedded hub and {@code nodes} agents with simulated GPUs, in this JVM. */
    private SpokeClient startEmbedded() throws Exception {
      byte[] random = new byte[24];
      new SecureRandom().nextBytes(random);
      SecurityOptions security = new SecurityOptions().setToken(java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(random));
      embedded = Vertx.vertx();
      HubVerticle hub = new HubVerticle(new HubOptions().setPort(0).setSecurity(security));
      embedded.deployVerticle(hub).await(30, TimeUnit.SECONDS);
      List<AgentVerticle> agents = new ArrayList<>();
      for (int i = 0; i < request.nodes(); i++) {
        AgentVerticle agent = new AgentVerticle(new AgentOptions().setHubPort(hub.actualPort()).setNodeId("node-" + i)
          .setGpus(request.gpusPerNode()).setSecurity(new SecurityOptions(security))
          // spoke run starts processes: warm Java actor hosts would only cost memory.
          .setWarmPool(0));
        embedded.deployVerticle(agent).await(30, TimeUnit.SECONDS);
        agents.add(agent);
      }
      for (AgentVerticle agent : agents) {
        agent.registered().await(30, TimeUnit.SECONDS);
      }
      return SpokeClient.create(embedded, new SpokeClientOptions().setHubPort(hub.actualPort()).setSecurity(new SecurityOptions(security)));
    }

    private int launch() throws Exception {
      GangRequest gang = new GangRequest().setNodes(request.nodes()).setActorsPerNode(request.perNode()).setGpus(request.gpus())
        .setCpus(request.cpus()).setTimeout(request.timeoutMs()).setWaitForResources(true).setDetached(request.detach())
        .setRestart(request.gangRestart() ? request.restart() : RestartPolicy.never());
      if (request.strategy() != null) {
        gang.setStrategy(request.strategy());
      }
      Allocation allocation = client.gangAllocate(gang).await(request.timeoutMs() + 30_000, TimeUnit.MILLISECONDS);
      ticket = allocation.ticketId();
      int world = allocation.worldSize();
      err.println("spoke run: ticket " + ticket + ", " + world + " ranks, master " + allocation.masterAddr() + ":" + allocation.masterPort());
      List<Future<ManagedProcess>> launches = new ArrayList<>();
      for (int rank = 0; rank < world; rank++) {
        launches.add(client.launchProcess(ticket, rank, ticket + "-rank-" + rank, request.spec(),
          new SpawnOptions().setTimeout(request.timeoutMs()).setRestart(request.gangRestart() ? RestartPolicy.never() : request.restart())));
      }
      List<ManagedProcess> ranks = new ArrayList<>();
      Throwable launchFailure = null;
      for (Future<ManagedProcess> launch : launches) {
        try {
          ranks.add(launch.await(request.timeoutMs() + 30_000, TimeUnit.MILLISECONDS));
        } catch (Exception e) {
          launchFailure = launchFailure == null ? e : launchFailure;
          ranks.add(null);
        }
      }
      if (request.detach() && launchFailure == null) {
        out.println(ticket);
        return 0;
      }
      List<Thread> printers = new ArrayList<>();
      for (int rank = 0; rank < world; rank++) {
        ManagedProcess p = ranks.get(rank);
        if (p != null) {
          Thread printer = new Thread(new RankOutput(client, p, rank, out), "spoke-run-rank-" + rank);
          printer.setDaemon(true);
          printer.start();
          printers.add(printer);
          p.exit().onSuccess(this::onRankExit);
        }
      }
      if (launchFailure != null) {
        err.println("spoke run: " + launchFailure.getMessage());
        stopping = true;
        firstFailure.compareAndSet(-1, 1);
        client.release(ticket);
      }
      // The run ends when every rank has: its output is read to the end meanwhile.
      for (ManagedProcess p : ranks) {
        if (p != null) {
          try {
            p.exit().await();
          } catch (Exception closed) {
            // the client closed: nothing more to wait for
          }
        }
      }
      for (Thread printer : printers) {
        printer.join(TimeUnit.SECONDS.toMillis(30));
      }
      int status = Math.max(0, firstFailure.get());
      client.release(ticket).await(120, TimeUnit.SECONDS);
      ticket = null;
      return status;
    }

    /** The first rank that fails decides the exit status; the others are stopped then (the ticket is released). */
    private void onRankExit(ActorInfo info) {
      int code = info.exitCode();
      if (code != 0 && !stopping && firstFailure.compareAndSet(-1, code < 0 ? 1 : code)) {
        stopping = true;
        err.println("spoke run: rank " + info.rank() + " " + (info.reason() == null ? "exited with status " + code : info.reason())
          + "; stopping the other ranks");
        client.release(ticket);
      }
    }

    /** Ctrl-C or SIGTERM: every rank stops and the ticket is released before the JVM goes. */
    void interrupted() {
      stopping = true;
      String t = ticket;
      if (t != null && client != null) {
        err.println("spoke run: interrupted; stopping every rank of ticket " + t);
        try {
          client.release(t).await(60, TimeUnit.SECONDS);
        } catch (Exception e) {
          err.println("spoke run: cannot release ticket " + t + ": " + e.getMessage());
        }
      }
      try {
        done.await(15, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
