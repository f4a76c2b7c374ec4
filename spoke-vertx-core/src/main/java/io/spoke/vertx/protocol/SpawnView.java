// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import io.spoke.vertx.client.Liveness;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.protocol.fb.Spawn;
import java.util.List;
import java.util.Map;

/**
 * A received Spawn, read in place: a client's to the hub (an ad-hoc actor), or the hub's to an agent. Each accessor
 * reads the frame when called, so it is valid until the frame is released; malformed parts fail when they are read
 * (a {@link io.spoke.vertx.ProtocolException}), not before.
 */
public final class SpawnView {

  private final Spawn spawn;

  SpawnView(Spawn spawn) {
    this.spawn = spawn;
  }

  public String actorId() {
    return spawn.actorId();
  }

  public String actorType() {
    return spawn.actorType();
  }

  /** Hub to agent: the hub's id of this spawn, or null. */
  public String spawnId() {
    return spawn.spawnId();
  }

  /** The node asked for, or null or empty for any. */
  public String nodeId() {
    return spawn.nodeId();
  }

  public int gpus() {
    return spawn.gpus();
  }

  public int cpus() {
    return spawn.cpus();
  }

  public long memoryMb() {
    return spawn.memoryMb();
  }

  public long timeoutMs() {
    return spawn.timeoutMs();
  }

  /** Whether it waits for a node with room, within its timeout, instead of failing at once. */
  public boolean waitForResources() {
    return spawn.waitForResources();
  }

  /** The environment, in order ({@link SpawnCodec#env(Spawn)}). */
  public Map<String, String> env() {
    return SpawnCodec.env(spawn);
  }

  public List<String> jvmOptions() {
    return SpawnCodec.jvmOptions(spawn);
  }

  /** The GPU ids the hub gives the actor. */
  public List<Integer> gpuIds() {
    return SpawnCodec.gpuIds(spawn);
  }

  /**
   * The managed process to start instead of a Java actor, with its environment; null for a Java actor. An
   * {@link IllegalArgumentException} when a field is out of range.
   */
  public ProcessSpec process() {
    return SpawnCodec.process(spawn);
  }

  /** Its restart policy ({@link RestartPolicy#never()} when none); an {@link IllegalArgumentException} when malformed. */
  public RestartPolicy restart() {
    return SpawnCodec.restart(spawn);
  }

  /** Its liveness check ({@link Liveness#none()} when none); an {@link IllegalArgumentException} when malformed. */
  public Liveness liveness() {
    return SpawnCodec.liveness(spawn);
  }

  /** The gang rank the actor fills, or null for an ad-hoc actor. */
  public Slot slot() {
    return spawn.slot() == null ? null : Messages.readSlot(spawn.slot());
  }
}
