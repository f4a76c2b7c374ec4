// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.GpuInfo;
import io.spoke.vertx.protocol.fb.FbActorInfo;
import io.spoke.vertx.protocol.fb.PortHold;
import io.spoke.vertx.protocol.fb.RegisterNode;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * An agent's registration as the hub reads it, in place: valid until the frame is released. Each part is read when
 * asked for, so the hub checks the node id before a malformed vector fails; a node without capacity has none.
 */
public final class RegisterNodeView {

  private final RegisterNode node;
  private final FbActorInfo actor = new FbActorInfo();

  RegisterNodeView(RegisterNode node) {
    this.node = node;
  }

  public String nodeId() {
    return node.nodeId();
  }

  public String host() {
    return node.host();
  }

  /** The agent's port (where its actor hosts connect back). */
  public int port() {
    return node.port();
  }

  public List<GpuInfo> gpus() {
    return Messages.readGpus(node.capacity());
  }

  /** CPUs as the agent reports them (0 without capacity; the hub takes negatives as 0). */
  public int cpus() {
    return node.capacity() == null ? 0 : node.capacity().cpus();
  }

  public long memoryMb() {
    return node.capacity() == null ? 0 : node.capacity().memoryMb();
  }

  public Map<String, Long> custom() {
    return Messages.readCustom(node.capacity());
  }

  /** The rendezvous ports the agent holds, by holder, sorted. */
  public Map<String, Integer> ports() {
    Map<String, Integer> held = new TreeMap<>();
    PortHold hold = new PortHold();
    for (int i = 0, n = Messages.length(node.portsLength(), "ports"); i < n; i++) {
      node.ports(hold, i);
      held.put(Messages.nonNull(hold.holder(), "port holder"), hold.port());
    }
    return held;
  }

  /** How many unacknowledged exits the agent reports, oldest first: read each with {@link #exit(int)}. */
  public int exitCount() {
    return Messages.length(node.exitsLength(), "exits");
  }

  public ActorInfo exit(int i) {
    return Messages.readActorInfo(node.exits(actor, i));
  }

  /** Unacknowledged exits the agent did not keep (its memory of them is bounded). */
  public long exitsDropped() {
    return node.exitsDropped();
  }

  /** How many instances the agent holds (in every state): read each with {@link #actor(int)}. */
  public int actorCount() {
    return Messages.length(node.actorsLength(), "state.actors");
  }

  public ActorInfo actor(int i) {
    return Messages.readActorInfo(node.actors(actor, i));
  }
}
