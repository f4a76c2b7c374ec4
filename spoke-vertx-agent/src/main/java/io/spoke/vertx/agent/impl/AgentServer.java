package io.spoke.vertx.agent.impl;

import com.google.flatbuffers.FlatBufferBuilder;
import io.spoke.vertx.ActorNotFoundException;
import io.spoke.vertx.DuplicateActorException;
import io.spoke.vertx.InvalidRequestException;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.SpawnException;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.process.ActorCds;
import io.spoke.vertx.agent.process.ActorLogs;
import io.spoke.vertx.agent.process.ActorSockets;
import io.spoke.vertx.agent.process.GpuDiscovery;
import io.spoke.vertx.agent.process.ProcessLauncher;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.GpuInfo;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.internal.ActorHostLaunch;
import io.spoke.vertx.internal.BoundedMap;
import io.spoke.vertx.internal.ExitStatus;
import io.spoke.vertx.internal.LocalHost;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.internal.net.MessageHandler;
import io.spoke.vertx.protocol.ErrorCodes;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.Messages;
import io.spoke.vertx.protocol.Names;
import io.spoke.vertx.protocol.SpawnCodec;
import io.spoke.vertx.protocol.fb.ActorEvent;
import io.spoke.vertx.protocol.fb.ActorSpec;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.spoke.vertx.protocol.fb.Heartbeat;
import io.spoke.vertx.protocol.PeerHello;
import io.spoke.vertx.protocol.fb.LogChunk;
import io.spoke.vertx.protocol.fb.PortHold;
import io.spoke.vertx.protocol.fb.PortReserved;
import io.spoke.vertx.protocol.fb.ReadLog;
import io.spoke.vertx.protocol.fb.Ready;
import io.spoke.vertx.protocol.fb.RegisterNode;
import io.spoke.vertx.protocol.fb.Registered;
import io.spoke.vertx.protocol.fb.ReleasePort;
import io.spoke.vertx.protocol.fb.ReservePort;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.protocol.fb.Shutdown;
import io.spoke.vertx.protocol.fb.Spawn;
import io.spoke.vertx.protocol.fb.StartFailed;
import io.spoke.vertx.protocol.fb.Stop;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.SocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The agent's state and protocol handling: registration and heartbeat with the hub, spawning and stopping
 * actor processes, and the connections those processes open back to the agent. Everything runs on the
 * agent verticle's event loop; process starts and kills run on the launcher thread, file I/O on workers.
 */
public final class AgentServer {

  private static final Logger log = LogManager.getLogger(AgentServer.class);

  static final int RECENTLY_EXITED = 256;
  static final long MAX_RECONNECT_INTERVAL = 10_000;
  static final long HUB_TIMEOUT = 30_000;
  static final int LOG_TAIL_LINES = 20;

  private final Vertx vertx;
  private final ContextInternal context;
  private final AgentOptions options;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, ActorProcess> actors = new HashMap<>();
  private final Map<String, ActorInfo> recentlyExited = new BoundedMap<>(RECENTLY_EXITED);
  private final Promise<Void> registered = Promise.promise();
  private final RendezvousPorts ports;
  private ProcessLauncher launcher;
  private ActorLogs logs;
  /** AppCDS archive of actor hosts; null when turned off. */
  private ActorCds cds;
  /** Where actors put their Unix sockets; {@code null} when they have none. */
  private ActorSockets sockets;
  /** This host's boot id, which tells clients where actors' Unix sockets can be reached. */
  private String hostId;
  private List<GpuInfo> gpus;
  private int cpus;
  private long memoryMb;
  private boolean gpuEnvManaged;
  private NetClient netClient;
  private byte[] token;
  private ClusterAuth auth;
  private NetServer server;
  private Connection hub;
  private String nodeId;
  private String advertiseHost;
  private long heartbeatTimer = -1;
  private long reconnectTimer = -1;
  private long reconnectDelay;
  private boolean stopping;

  public AgentServer(Vertx vertx, ContextInternal context, AgentOptions options) {
    this.vertx = vertx;
    this.context = context;
    this.options = options;
    this.reconnectDelay = options.getReconnectInterval();
    this.ports = new RendezvousPorts(options.getMasterPortRange());
  }

  /** Completes once the machine is inspected and the agent listens; registration with the hub follows. */
  public Future<Void> start() {
    String visible = System.getenv("CUDA_VISIBLE_DEVICES");
    gpuEnvManaged = visible != null;
    return vertx.executeBlocking(() -> {
      launcher = new ProcessLauncher();
      gpus = GpuDiscovery.discover(options.getGpus(), visible);
      cpus = options.getCpus() >= 0 ? options.getCpus() : Runtime.getRuntime().availableProcessors();
      memoryMb = options.getMemoryMb() >= 0 ? options.getMemoryMb() : MachineInfo.memoryMb();
      Path dir = Paths.get(options.getLogDir()).toAbsolutePath().normalize();
      Files.createDirectories(dir);
      logs = new ActorLogs(dir);
      if (options.isActorCds()) {
        cds = new ActorCds(dir.resolve(".spoke-cds"), javaCommand(), actorClasspath());
        cds.load();
      }
      hostId = LocalHost.id();
      if (options.isLocalSockets() && !options.getSecurity().isTls() && hostId != null) {
        Path parent = Paths.get(System.getProperty("java.io.tmpdir"));
        try {
          sockets = ActorSockets.create(parent);
          if (sockets == null) {
            log.warn("Actors listen on TCP only: Unix socket paths under {} would be longer than the kernel allows", parent);
          }
        } catch (IOException e) {
          log.warn("Actors listen on TCP only: cannot create a directory for their Unix sockets in {}: {}", parent, e.toString());
        }
      }
      return null;
    }).compose(v -> {
      SecurityOptions security = options.getSecurity();
      NetServerOptions serverOptions;
      NetClientOptions clientOptions;
      try {
        token = security.resolveToken();
        // Actor processes listen on the address the agent reaches the hub from (or the advertised one).
        String exposed = !ClusterAuth.isLoopback(options.getHost()) ? options.getHost()
          : options.getAdvertiseHost() != null && !ClusterAuth.isLoopback(options.getAdvertiseHost()) ? options.getAdvertiseHost()
          : !ClusterAuth.isLoopback(options.getHubHost()) ? "actors reachable from the hub's network (" + options.getHubHost() + ")"
          : options.getHost();
        auth = ClusterAuth.forServer("the agent", exposed, token, security.isInsecure(), log);
        serverOptions = security.applyTo(new NetServerOptions());
        clientOptions = security.applyTo(new NetClientOptions());
      } catch (IllegalArgumentException e) {
        return Future.failedFuture(e);
      }
      netClient = vertx.createNetClient(clientOptions.setTcpNoDelay(true).setConnectTimeout((int) HUB_TIMEOUT));
      server = vertx.createNetServer(serverOptions.setHost(options.getHost()).setPort(options.getPort()).setTcpNoDelay(true));
      server.connectHandler(socket -> Connection.accept(socket, options.getMaxFrameSize(), "agent", auth, this::acceptActorHost));
      return server.listen();
    }).compose(s -> {
      log.info("Agent listening on {}:{} with {} GPUs {}, {} CPUs, {} MiB; actor logs in {}{}{}", options.getHost(), s.actualPort(),
        gpus.size(), gpus.stream().map(g -> String.valueOf(g.index())).collect(Collectors.joining(",", "[", "]")), cpus, memoryMb,
        logs.logDir(), auth.hasToken() ? "; cluster token required" : "", options.getSecurity().isTls() ? "; TLS" : "");
      connectHub();
      return Future.<Void>succeededFuture();
    });
  }

  /** Completes the first time the hub accepts this node. */
  public Future<Void> registered() {
    return registered.future();
  }

  public int actualPort() {
    return server.actualPort();
  }

  public String nodeId() {
    return nodeId;
  }

  // ------------------------------------------------------------------ hub

  private void connectHub() {
    if (stopping) {
      return;
    }
    SocketAddress address = SocketAddress.inetSocketAddress(options.getHubPort(), options.getHubHost());
    ClientHello hello = ClientHello.of(Role.Agent, options.getNodeId(), auth).withMaxFrameSize(options.getMaxFrameSize())
      .withTimeout(HUB_TIMEOUT);
    Connection.connect(netClient, address, hello)
      .compose(connection -> {
        if (stopping) {
          connection.close();
          return Future.failedFuture("agent stopping");
        }
        if (advertiseHost == null) {
          advertiseHost = options.getAdvertiseHost() != null ? options.getAdvertiseHost() : connection.localAddress().hostAddress();
        }
        if (nodeId == null) {
          nodeId = options.getNodeId() != null ? options.getNodeId()
            : advertiseHost.replace(':', '_').replace('%', '_') + "-" + server.actualPort();
        }
        connection.messageHandler(this::onHubMessage);
        connection.closeHandler(this::onHubClosed);
        return register(connection).map(connection);
      })
      .onComplete(ar -> {
        if (ar.succeeded()) {
          hub = ar.result();
          reconnectDelay = options.getReconnectInterval();
          registered.tryComplete();
        } else if (!stopping) {
          log.warn("Cannot register with the hub at {}: {}; retrying in {} ms", address, ar.cause().getMessage(), reconnectDelay);
          scheduleReconnect();
        }
      });
  }

  private Future<Void> register(Connection connection) {
    FlatBufferBuilder b = connection.builder();
    int id = b.createString(nodeId);
    int host = b.createString(advertiseHost);
    int capacity = Messages.writeCapacity(b, gpus, cpus, memoryMb, options.getResources());
    List<ActorProcess> running = actors.values().stream().filter(p -> p.state == ActorState.RUNNING).collect(Collectors.toList());
    int[] infos = new int[running.size()];
    for (int i = 0; i < infos.length; i++) {
      infos[i] = Messages.writeActorInfo(b, running.get(i).info());
    }
    int actorVector = RegisterNode.createActorsVector(b, infos);
    Map<String, Integer> held = ports.held();
    int[] holds = new int[held.size()];
    int h = 0;
    for (Map.Entry<String, Integer> e : held.entrySet()) {
      holds[h++] = PortHold.createPortHold(b, b.createString(e.getKey()), e.getValue());
    }
    int body = RegisterNode.createRegisterNode(b, id, host, server.actualPort(), capacity, actorVector,
      RegisterNode.createPortsVector(b, holds));
    return connection.request(Body.RegisterNode, body, null, HUB_TIMEOUT, "registration of node " + nodeId, frame -> {
      if (frame.bodyType() != Body.Registered) {
        throw new ProtocolException("the hub answered registration with message type " + frame.bodyType());
      }
      return ((Registered) frame.header().body(new Registered())).heartbeatIntervalMs();
    }).map(interval -> {
      log.info("Registered with the hub at {} as node {} (advertising {})", connection.remoteAddress(), nodeId, advertiseHost);
      if (heartbeatTimer >= 0) {
        vertx.cancelTimer(heartbeatTimer);
      }
      heartbeatTimer = vertx.setPeriodic(Math.max(10, interval), t -> heartbeat(connection));
      return null;
    });
  }

  private void heartbeat(Connection connection) {
    if (connection.isClosed()) {
      return;
    }
    FlatBufferBuilder b = connection.builder();
    Heartbeat.startHeartbeat(b);
    connection.send(Body.Heartbeat, Heartbeat.endHeartbeat(b), null);
  }

  private void onHubClosed(Connection connection) {
    if (hub == connection) {
      hub = null;
    }
    if (heartbeatTimer >= 0) {
      vertx.cancelTimer(heartbeatTimer);
      heartbeatTimer = -1;
    }
    if (!stopping) {
      log.warn("Lost the connection to the hub; actors keep running; reconnecting in {} ms", reconnectDelay);
      scheduleReconnect();
    }
  }

  private void scheduleReconnect() {
    if (reconnectTimer >= 0 || stopping) {
      return;
    }
    long delay = reconnectDelay;
    reconnectDelay = Math.min(MAX_RECONNECT_INTERVAL, reconnectDelay * 2);
    reconnectTimer = vertx.setTimer(delay, t -> {
      reconnectTimer = -1;
      connectHub();
    });
  }

  private void onHubMessage(Connection connection, Frame frame) {
    long id = frame.id();
    try {
      switch (frame.bodyType()) {
        case Body.Spawn:
          spawn(connection, id, (Spawn) frame.header().body(new Spawn()), frame.copyPayload());
          break;
        case Body.Stop:
          stop(connection, id, ((Stop) frame.header().body(new Stop())).actorId());
          break;
        case Body.ReservePort:
          reservePort(connection, id, ((ReservePort) frame.header().body(new ReservePort())).ticket());
          break;
        case Body.ReleasePort:
          ports.release(((ReleasePort) frame.header().body(new ReleasePort())).ticket());
          break;
        case Body.ReadLog:
          readLog(connection, id, (ReadLog) frame.header().body(new ReadLog()));
          break;
        default:
          connection.replyError(id, ErrorCode.Protocol, "agents do not handle message type " + frame.bodyType(), null, Body.NONE, 0);
      }
    } catch (RuntimeException e) {
      log.warn("Malformed request from the hub: {}", e.toString());
      connection.replyError(id, ErrorCode.Protocol, "malformed request: " + e.getMessage(), null, Body.NONE, 0);
    } finally {
      frame.release();
    }
  }

  private void sendEvent(ActorInfo info) {
    Connection connection = hub;
    if (connection == null || connection.isClosed()) {
      return;
    }
    FlatBufferBuilder b = connection.builder();
    int actor = Messages.writeActorInfo(b, info);
    connection.send(Body.ActorEvent, ActorEvent.createActorEvent(b, actor), null);
  }

  // ------------------------------------------------------------------ spawn

  private void spawn(Connection hubConnection, long requestId, Spawn s, Buffer args) {
    String actorId = s.actorId();
    String actorType = s.actorType();
    String error = Names.checkType(actorType);
    if (error == null) {
      error = Names.checkId("actor id", actorId);
    }
    if (error != null) {
      hubConnection.replyFailure(requestId, new InvalidRequestException(error));
      return;
    }
    if (actors.containsKey(actorId)) {
      hubConnection.replyFailure(requestId, new DuplicateActorException("actor '" + actorId + "' already runs on node " + nodeId));
      return;
    }
    List<Integer> gpuIds = SpawnCodec.gpuIds(s);
    Map<String, String> userEnv = SpawnCodec.env(s);
    userEnv.replaceAll((name, value) -> value == null ? "" : value);
    List<String> jvmOptions = new ArrayList<>(options.getActorJvmOptions());
    jvmOptions.addAll(SpawnCodec.jvmOptions(s));
    long timeout = Math.min(s.timeoutMs() > 0 ? s.timeoutMs() : options.getMaxSpawnTimeout(), options.getMaxSpawnTimeout());
    Slot slot = s.slot() == null ? null : Messages.readSlot(s.slot());

    ActorProcess proc = new ActorProcess(actorId, actorType, gpuIds, slot, args, newSecret(), timeout);
    proc.localSocket = sockets == null ? null : sockets.next();
    actors.put(actorId, proc);
    proc.spawned.future().onComplete(ar -> {
      if (ar.succeeded()) {
        FlatBufferBuilder b = hubConnection.builder();
        hubConnection.reply(requestId, Body.FbActorInfo, Messages.writeActorInfo(b, ar.result()), null);
      } else {
        hubConnection.replyFailure(requestId, ar.cause());
      }
    });

    String header = "# Spoke actor '" + actorId + "' of type " + actorType + " on node " + nodeId + ", started " + Instant.now() + "\n"
      + (slot == null ? "" : "# ticket " + slot.ticketId() + ", rank " + slot.globalRank() + " of " + slot.worldSize() + " (local rank "
      + slot.localRank() + " of " + slot.localWorldSize() + "), master " + slot.masterAddr() + ":" + slot.masterPort() + "\n")
      + "# GPUs: " + (gpuIds.isEmpty() ? "none" : gpuIds.toString()) + "\n";
    Map<String, String> env = environment(proc, userEnv);
    if (cds != null) {
      jvmOptions.addAll(cds.optionsFor(actorId, jvmOptions));
    }
    List<String> command = command(jvmOptions);
    vertx.executeBlocking(() -> logs.create(slot == null ? null : slot.ticketId(), actorId, header))
      .compose(file -> {
        proc.logFile = file;
        return launcher.start(context, command, env, file, tokenLine());
      })
      .onComplete(ar -> {
        if (ar.failed()) {
          actors.remove(actorId, proc);
          if (cds != null) {
            cds.trainerExited(actorId); // a trainer that never started wrote nothing: let the next one train
          }
          proc.spawned.tryFail(new SpawnException("cannot start a process for actor '" + actorId + "' on node " + nodeId + ": "
            + ar.cause().getMessage()));
          return;
        }
        Process process = ar.result();
        proc.process = process;
        proc.pid = process.pid();
        log.info("Started actor {} ({}) as process {}; log {}", actorId, actorType, proc.pid, proc.logFile);
        process.onExit().whenComplete((p, err) -> context.runOnContext(v -> onExit(proc)));
        proc.spawnTimer = vertx.setTimer(timeout, t -> {
          proc.spawnTimer = -1;
          if (proc.state == ActorState.STARTING) {
            proc.spawnTimedOut = true;
            kill(proc);
          }
        });
        if (proc.stopRequested) {
          kill(proc);
        }
      });
  }

  private Map<String, String> environment(ActorProcess proc, Map<String, String> userEnv) {
    Map<String, String> env = new HashMap<>(System.getenv());
    // UCX (the RDMA data plane) warns at every start that Debian's 1.13 is older than jucx's API; errors still show.
    env.putIfAbsent("UCX_LOG_LEVEL", "error");
    env.putAll(userEnv);
    if (!proc.gpuIds.isEmpty() || gpuEnvManaged || proc.slot != null) {
      // The actor sees exactly its GPUs, also when the agent itself was given a subset (never the agent's whole
      // set); a gang actor without GPUs sees none (Spoke's managed mode). Only ad-hoc actors without GPUs, on an
      // agent that was not given a subset, inherit the agent's environment.
      String ids = proc.gpuIds.stream().map(String::valueOf).collect(Collectors.joining(","));
      env.put("CUDA_VISIBLE_DEVICES", ids);
      env.put("CUDA_DEVICE_ORDER", "PCI_BUS_ID");
      env.put("ROCR_VISIBLE_DEVICES", ids);
    }
    Slot slot = proc.slot;
    if (slot != null) {
      // What torch.distributed's env:// rendezvous and NCCL read: the gang forms a process group as is.
      env.put("RANK", String.valueOf(slot.globalRank()));
      env.put("WORLD_SIZE", String.valueOf(slot.worldSize()));
      env.put("LOCAL_RANK", String.valueOf(slot.localRank()));
      env.put("LOCAL_WORLD_SIZE", String.valueOf(slot.localWorldSize()));
      env.put("MASTER_ADDR", slot.masterAddr());
      env.put("MASTER_PORT", String.valueOf(slot.masterPort()));
      env.put("SPOKE_TICKET", slot.ticketId());
    }
    env.put(ActorHostLaunch.ENV_AGENT_HOST, agentHostForChildren());
    env.put(ActorHostLaunch.ENV_AGENT_PORT, String.valueOf(server.actualPort()));
    env.put(ActorHostLaunch.ENV_AGENT_PID, String.valueOf(ProcessHandle.current().pid()));
    env.put(ActorHostLaunch.ENV_ACTOR_ID, proc.actorId);
    env.put(ActorHostLaunch.ENV_SECRET, proc.secret);
    env.put(ActorHostLaunch.ENV_BIND_HOST, advertiseHost != null ? advertiseHost : options.getHost());
    if (proc.localSocket != null) {
      env.put(ActorHostLaunch.ENV_LOCAL_SOCKET, proc.localSocket);
    }
    env.put(ActorHostLaunch.ENV_MAX_FRAME_SIZE, String.valueOf(options.getMaxFrameSize()));
    // The token goes to the actor host on its standard input, not in an environment its children would inherit.
    env.remove(SecurityOptions.ENV_TOKEN);
    ActorHostLaunch.putTls(options.getSecurity(), env);
    env.put("SPOKE_NODE_ID", nodeId == null ? "" : nodeId);
    env.put("SPOKE_ACTOR_TYPE", proc.actorType);
    return env;
  }

  /** The first line of an actor host's standard input: the cluster token, or nothing. */
  private byte[] tokenLine() {
    byte[] line = new byte[(token == null ? 0 : token.length) + 1];
    if (token != null) {
      System.arraycopy(token, 0, line, 0, token.length);
    }
    line[line.length - 1] = '\n';
    return line;
  }

  private String agentHostForChildren() {
    String host = options.getHost();
    return "0.0.0.0".equals(host) ? "127.0.0.1" : "::".equals(host) ? "::1" : host;
  }

  private List<String> command(List<String> jvmOptions) {
    List<String> command = new ArrayList<>();
    command.add(javaCommand());
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(actorClasspath());
    command.add(ActorHostLaunch.MAIN_CLASS);
    return command;
  }

  private String javaCommand() {
    return options.getJavaCommand() != null ? options.getJavaCommand() : Paths.get(System.getProperty("java.home"), "bin", "java").toString();
  }

  private String actorClasspath() {
    return options.getActorClasspath() != null ? options.getActorClasspath() : System.getProperty("java.class.path");
  }

  private String newSecret() {
    byte[] bytes = new byte[24];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  // ------------------------------------------------------------------ actor host connections

  private Future<MessageHandler> acceptActorHost(Connection connection, PeerHello hello) {
    if (hello.role() != Role.ActorHost) {
      return Future.failedFuture(new ProtocolException("agents accept connections from their actor processes only; clients talk to"
        + " the hub"));
    }
    ActorProcess proc = hello.name() == null ? null : actors.get(hello.name());
    if (proc == null || hello.secret() == null || !proc.secret.equals(hello.secret()) || proc.host != null) {
      return Future.failedFuture(new ProtocolException("no actor process of this agent is waiting for this connection"));
    }
    proc.host = connection;
    connection.closeHandler(c -> {
      if (proc.host == c) {
        proc.host = null;
      }
    });
    return Future.succeededFuture((c, frame) -> onActorHostMessage(proc, c, frame));
  }

  private void onActorHostMessage(ActorProcess proc, Connection connection, Frame frame) {
    long id = frame.id();
    try {
      switch (frame.bodyType()) {
        case Body.Bootstrap:
          FlatBufferBuilder b = connection.builder();
          int slotOffset = proc.slot == null ? 0 : Messages.writeSlot(b, proc.slot);
          int spec = ActorSpec.createActorSpec(b, b.createString(proc.actorType), b.createString(proc.actorId),
            Messages.string(b, nodeId), Messages.intVector(b, proc.gpuIds), options.getMaxFrameSize(), slotOffset);
          connection.reply(id, Body.ActorSpec, spec, proc.args);
          break;
        case Body.Ready:
          Ready ready = (Ready) frame.header().body(new Ready());
          connection.reply(id, Body.NONE, 0, null);
          onReady(proc, ready.port(), ready.localSocket());
          break;
        case Body.StartFailed:
          StartFailed failed = (StartFailed) frame.header().body(new StartFailed());
          proc.startFailure = ErrorCodes.toException(failed.code(), failed.message(), null, proc.actorId);
          connection.reply(id, Body.NONE, 0, null);
          break;
        default:
          connection.replyError(id, ErrorCode.Protocol, "agents do not handle message type " + frame.bodyType() + " from actors",
            null, Body.NONE, 0);
      }
    } finally {
      frame.release();
    }
  }

  private void onReady(ActorProcess proc, int port, String localSocket) {
    if (proc.state != ActorState.STARTING) {
      return;
    }
    if (proc.spawnTimer >= 0) {
      vertx.cancelTimer(proc.spawnTimer);
      proc.spawnTimer = -1;
    }
    proc.port = port;
    // Only the path this agent handed out: it is in the agent's own directory.
    proc.localSocketOpen = proc.localSocket != null && proc.localSocket.equals(localSocket);
    proc.state = ActorState.RUNNING;
    log.info("Actor {} ready on {}:{}{}", proc.actorId, advertiseHost, port, proc.localSocketOpen ? " and " + proc.localSocket : "");
    proc.spawned.tryComplete(proc.info());
    if (proc.stopRequested) {
      requestShutdown(proc);
    }
  }

  // ------------------------------------------------------------------ rendezvous ports and logs

  private void reservePort(Connection hubConnection, long requestId, String ticket) {
    vertx.executeBlocking(() -> ports.reserve(ticket)).onComplete(ar -> {
      if (ar.failed()) {
        hubConnection.replyFailure(requestId, ar.cause());
        return;
      }
      FlatBufferBuilder b = hubConnection.builder();
      hubConnection.reply(requestId, Body.PortReserved, PortReserved.createPortReserved(b, ar.result()), null);
    });
  }

  private void readLog(Connection hubConnection, long requestId, ReadLog r) {
    String actorId = r.actorId();
    ActorProcess proc = actorId == null ? null : actors.get(actorId);
    String path = proc != null ? (proc.logFile == null ? null : proc.logFile.toString())
      : actorId == null || recentlyExited.get(actorId) == null ? null : recentlyExited.get(actorId).logFile();
    if (path == null) {
      hubConnection.replyFailure(requestId, new ActorNotFoundException("node " + nodeId + " has no log of actor '" + actorId + "'"));
      return;
    }
    boolean running = proc != null;
    long offset = Math.max(0, r.offset());
    int max = Math.max(0, Math.min(r.maxBytes(), options.getMaxFrameSize() / 2));
    vertx.executeBlocking(() -> ActorLogs.read(Paths.get(path), offset, max)).onComplete(ar -> {
      if (ar.failed()) {
        hubConnection.replyFailure(requestId, new ActorNotFoundException("cannot read the log of actor '" + actorId + "' (" + path
          + "): " + ar.cause().getMessage()));
        return;
      }
      ActorLogs.Chunk chunk = ar.result();
      FlatBufferBuilder b = hubConnection.builder();
      int body = LogChunk.createLogChunk(b, b.createString(path), offset + chunk.data.length(), chunk.size, running);
      hubConnection.reply(requestId, Body.LogChunk, body, chunk.data);
    });
  }

  // ------------------------------------------------------------------ stop and exit

  private void stop(Connection hubConnection, long requestId, String actorId) {
    ActorProcess proc = actorId == null ? null : actors.get(actorId);
    if (proc == null) {
      ActorInfo exited = actorId == null ? null : recentlyExited.get(actorId);
      if (exited != null) {
        FlatBufferBuilder b = hubConnection.builder();
        hubConnection.reply(requestId, Body.FbActorInfo, Messages.writeActorInfo(b, exited), null);
      } else {
        hubConnection.replyFailure(requestId, new ActorNotFoundException("no actor '" + actorId + "' runs on node " + nodeId));
      }
      return;
    }
    Promise<ActorInfo> promise = Promise.promise();
    proc.stopped.add(promise);
    promise.future().onComplete(ar -> {
      FlatBufferBuilder b = hubConnection.builder();
      hubConnection.reply(requestId, Body.FbActorInfo, Messages.writeActorInfo(b, ar.result()), null);
    });
    if (proc.stopRequested) {
      return;
    }
    proc.stopRequested = true;
    if (proc.state == ActorState.RUNNING) {
      requestShutdown(proc);
    } else if (proc.process != null) {
      kill(proc);
    }
  }

  private void requestShutdown(ActorProcess proc) {
    proc.state = ActorState.STOPPING;
    if (proc.host != null && options.getStopTimeout() > 0) {
      FlatBufferBuilder b = proc.host.builder();
      Shutdown.startShutdown(b);
      proc.host.request(Body.Shutdown, Shutdown.endShutdown(b), null, options.getStopTimeout(), "shutdown", f -> null);
      proc.killTimer = vertx.setTimer(options.getStopTimeout(), t -> {
        proc.killTimer = -1;
        log.warn("Actor {} did not stop within {} ms; killing its process group", proc.actorId, options.getStopTimeout());
        proc.killedAfterGrace = true;
        kill(proc);
      });
    } else {
      kill(proc);
    }
  }

  private void kill(ActorProcess proc) {
    if (proc.process != null && proc.process.isAlive()) {
      launcher.kill(context, proc.process.toHandle());
    }
  }

  private void onExit(ActorProcess proc) {
    if (proc.exited) {
      return;
    }
    proc.exited = true;
    int status = proc.process.exitValue();
    Path trained = cds == null ? null : cds.trainerExited(proc.actorId);
    if (trained != null) {
      ActorCds archive = cds;
      vertx.executeBlocking(() -> ActorCds.publish(trained, archive.archive())).onSuccess(ok -> {
        if (ok) {
          archive.published();
        }
      });
    }
    if (proc.spawnTimer >= 0) {
      vertx.cancelTimer(proc.spawnTimer);
    }
    if (proc.killTimer >= 0) {
      vertx.cancelTimer(proc.killTimer);
    }
    actors.remove(proc.actorId, proc);
    if (proc.host != null) {
      proc.host.close();
    }
    if (proc.localSocket != null) {
      String socket = proc.localSocket;
      vertx.executeBlocking(() -> {
        ActorSockets.delete(socket);
        return null;
      }).onFailure(err -> log.warn("Cannot remove the Unix socket {} of actor {}: {}", socket, proc.actorId, err.toString()));
    }
    // What the actor started and left behind (its process group outlives it) goes with it.
    launcher.killGroup(context, proc.pid);
    String reason;
    if (proc.stopRequested) {
      reason = proc.killedAfterGrace ? "stopped (killed after the " + options.getStopTimeout() + " ms stop timeout)" : "stopped";
    } else if (stopping) {
      reason = "its agent stopped";
    } else {
      reason = ExitStatus.describe(status);
    }
    ActorInfo info = proc.info().withState(ActorState.EXITED, status, reason);
    recentlyExited.put(proc.actorId, info);
    log.info("Actor {} (process {}) {}", proc.actorId, proc.pid, reason);
    boolean wasRunning = proc.spawned.future().succeeded();
    if (!wasRunning) {
      failSpawn(proc, status);
    } else {
      sendEvent(info);
    }
    for (Promise<ActorInfo> p : proc.stopped) {
      p.tryComplete(info);
    }
  }

  private void failSpawn(ActorProcess proc, int status) {
    Path file = proc.logFile;
    vertx.executeBlocking(() -> file == null ? "" : ActorLogs.tail(file, LOG_TAIL_LINES)).onComplete(ar -> {
      String tail = ar.succeeded() ? ar.result() : "";
      String where = file == null ? "" : "; last lines of its log " + file + " on node " + nodeId + ":\n" + tail;
      String what = "actor '" + proc.actorId + "' (" + proc.actorType + ")";
      if (proc.startFailure != null) {
        proc.spawned.tryFail(ErrorCodes.toException(ErrorCodes.codeOf(proc.startFailure), what + " failed to start: "
          + proc.startFailure.getMessage() + " (" + ExitStatus.describe(status) + ")" + where, null, proc.actorId));
      } else if (proc.spawnTimedOut) {
        proc.spawned.tryFail(new SpawnException(what + " did not become ready within " + proc.timeout + " ms and was killed" + where));
      } else if (proc.stopRequested) {
        proc.spawned.tryFail(new SpawnException(what + " was stopped while it started"));
      } else {
        proc.spawned.tryFail(new SpawnException(what + " " + ExitStatus.describe(status) + " before it was ready" + where));
      }
    });
  }

  /** Kills every actor, waits (a bounded time) for them to exit, and closes. */
  public Future<Void> stop() {
    stopping = true;
    if (heartbeatTimer >= 0) {
      vertx.cancelTimer(heartbeatTimer);
    }
    if (reconnectTimer >= 0) {
      vertx.cancelTimer(reconnectTimer);
    }
    List<Future<?>> exits = new ArrayList<>();
    for (ActorProcess proc : new ArrayList<>(actors.values())) {
      proc.stopRequested = true;
      if (proc.process != null) {
        Promise<ActorInfo> exited = Promise.promise();
        proc.stopped.add(exited);
        exits.add(exited.future());
        kill(proc);
      }
    }
    Promise<Void> done = Promise.promise();
    long timer = vertx.setTimer(10_000, t -> done.tryComplete());
    Future.join(exits).onComplete(ar -> {
      vertx.cancelTimer(timer);
      done.tryComplete();
    });
    return done.future().compose(v -> {
      if (hub != null) {
        hub.close();
      }
      if (launcher != null) {
        launcher.close();
      }
      ActorSockets socketDir = sockets;
      Future<Void> removed = socketDir == null ? Future.succeededFuture() : vertx.<Void>executeBlocking(() -> {
        socketDir.close();
        return null;
      }).recover(err -> {
        log.warn("Cannot remove the actors' socket directory {}: {}", socketDir.dir(), err.toString());
        return Future.succeededFuture();
      });
      return removed.compose(r -> server == null ? Future.<Void>succeededFuture() : server.close());
    });
  }

  /** Pids of the actor processes this agent runs, for tests. */
  public List<Long> actorPids() {
    return actors.values().stream().filter(p -> p.process != null).map(p -> p.pid).collect(Collectors.toList());
  }

  /** One actor process, from spawn to exit. */
  private final class ActorProcess {

    final String actorId;
    final String actorType;
    final List<Integer> gpuIds;
    final Slot slot;
    final Buffer args;
    final String secret;
    final long timeout;
    final Promise<ActorInfo> spawned = Promise.promise();
    final List<Promise<ActorInfo>> stopped = new ArrayList<>(1);
    ActorState state = ActorState.STARTING;
    Path logFile;
    Process process;
    long pid;
    int port;
    /** The Unix socket this agent asked the actor to open, or {@code null}; and whether it did. */
    String localSocket;
    boolean localSocketOpen;
    Connection host;
    long spawnTimer = -1;
    long killTimer = -1;
    boolean spawnTimedOut;
    boolean stopRequested;
    boolean killedAfterGrace;
    boolean exited;
    RuntimeException startFailure;

    ActorProcess(String actorId, String actorType, List<Integer> gpuIds, Slot slot, Buffer args, String secret, long timeout) {
      this.actorId = actorId;
      this.actorType = actorType;
      this.gpuIds = List.copyOf(gpuIds);
      this.slot = slot;
      this.args = args;
      this.secret = secret;
      this.timeout = timeout;
    }

    ActorInfo info() {
      ActorInfo info = new ActorInfo(actorId, actorType, nodeId, advertiseHost, port, pid, logFile == null ? null : logFile.toString(),
        state, -1, null, gpuIds, slot == null ? null : slot.ticketId(), slot == null ? -1 : slot.globalRank());
      return localSocketOpen ? info.withLocalSocket(localSocket, hostId) : info;
    }
  }
}
