// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub;

import io.spoke.vertx.SpawnException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.GpuInfo;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.Message;
import io.spoke.vertx.protocol.Messages;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Heartbeat;
import io.spoke.vertx.protocol.fb.PortHold;
import io.spoke.vertx.protocol.fb.PortReserved;
import io.spoke.vertx.protocol.fb.RegisterNode;
import io.spoke.vertx.protocol.fb.ReleasePort;
import io.spoke.vertx.protocol.fb.ReservePort;
import io.spoke.vertx.protocol.fb.Stop;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * An agent played by a test, over a real connection to a real hub: it registers (reporting the actors it "runs"
 * and the rendezvous ports it holds, as a real agent does), heartbeats, holds ports per holder as the real agent
 * does, answers stops, and refuses spawns. Its state is touched on the one context of its connection.
 */
final class TestAgent {

  final String nodeId;
  final String host;
  private final int gpus;
  private final Vertx vertx;
  private final NetClient netClient;
  /** Ports held by holder (a ticket id or a hub's lease id), as the real agent's RendezvousPorts. */
  final Map<String, Integer> holds = new TreeMap<>();
  /** Holders the hub gave back, in order. */
  final List<String> released;
  /** Actors it reports running when it registers. */
  final List<ActorInfo> running = new CopyOnWriteArrayList<>();
  /** Exits it reports with its registration, as not acknowledged yet. */
  final List<ActorInfo> exits = new CopyOnWriteArrayList<>();
  private int nextPort = 29500;
  Connection connection;

  TestAgent(Vertx vertx, NetClient netClient, String nodeId, String host, int gpus, List<String> released) {
    this.vertx = vertx;
    this.netClient = netClient;
    this.nodeId = nodeId;
    this.host = host;
    this.gpus = gpus;
    this.released = released;
  }

  /** Connects and registers with the hub on {@code hubPort}; call it on a Vert.x context. */
  Future<Connection> connect(int hubPort) {
    return Connection.connect(netClient, SocketAddress.inetSocketAddress(hubPort, "127.0.0.1"),
      ClientHello.of(io.spoke.vertx.protocol.fb.Role.Agent, nodeId, ClusterAuth.NONE).withMaxFrameSize(1 << 20).withTimeout(5_000))
      .compose(c -> {
        connection = c;
        c.messageHandler(this::onMessage);
        long timer = vertx.setPeriodic(50, t -> {
          if (!c.isClosed()) {
            c.send(Message.of(Body.Heartbeat, b -> {
              Heartbeat.startHeartbeat(b);
              return Heartbeat.endHeartbeat(b);
            }), null);
          }
        });
        c.closeHandler(closed -> vertx.cancelTimer(timer));
        return c.request(registration(), null, 5_000, "register", f -> c);
      });
  }

  private Message registration() {
    List<GpuInfo> gpuList = new ArrayList<>();
    for (int i = 0; i < gpus; i++) {
      gpuList.add(new GpuInfo(i, "GPU-" + i, "Test GPU", 1024));
    }
    return Message.of(Body.RegisterNode, b -> {
      int capacity = Messages.writeCapacity(b, gpuList, 16, 64_000, Map.of());
      int[] actors = running.stream().mapToInt(a -> Messages.writeActorInfo(b, a)).toArray();
      int[] ports = holds.entrySet().stream().mapToInt(e -> PortHold.createPortHold(b, b.createString(e.getKey()), e.getValue())).toArray();
      int[] ended = exits.stream().mapToInt(a -> Messages.writeActorInfo(b, a)).toArray();
      return RegisterNode.createRegisterNode(b, b.createString(nodeId), b.createString(host), 7000, capacity,
        RegisterNode.createActorsVector(b, actors), RegisterNode.createPortsVector(b, ports), RegisterNode.createExitsVector(b, ended), 0);
    });
  }

  private void onMessage(Connection c, io.spoke.vertx.protocol.Frame frame) {
    try {
      switch (frame.bodyType()) {
        case Body.ReservePort:
          String holder = ((ReservePort) frame.header().body(new ReservePort())).ticket();
          int port = holds.computeIfAbsent(holder, h -> nextPort++);
          c.reply(frame.id(), Message.of(Body.PortReserved, b -> PortReserved.createPortReserved(b, port)), null);
          break;
        case Body.ReleasePort:
          String gone = ((ReleasePort) frame.header().body(new ReleasePort())).ticket();
          holds.remove(gone);
          released.add(gone);
          break;
        case Body.Stop:
          String actorId = ((Stop) frame.header().body(new Stop())).actorId();
          ActorInfo actor = running.stream().filter(a -> a.id().equals(actorId)).findFirst().orElse(null);
          running.remove(actor);
          ActorInfo exited = new ActorInfo(actorId, actor == null ? "Echo" : actor.type(), nodeId, host, 0, 0, null, ActorState.EXITED, 0,
            "stopped", List.of());
          c.reply(frame.id(), Message.of(Body.FbActorInfo, b -> Messages.writeActorInfo(b, exited)), null);
          break;
        case Body.Spawn:
          c.replyFailure(frame.id(), new SpawnException("this test agent starts no process"));
          break;
        default:
          break;
      }
    } finally {
      frame.release();
    }
  }
}
