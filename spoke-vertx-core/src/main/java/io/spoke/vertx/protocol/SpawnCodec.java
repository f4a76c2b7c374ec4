// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import com.google.flatbuffers.FlatBufferBuilder;
import io.spoke.vertx.client.Liveness;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.protocol.fb.KeyValue;
import io.spoke.vertx.protocol.fb.Launch;
import io.spoke.vertx.protocol.fb.Spawn;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.IntFunction;

/**
 * The start of an actor on the wire: what the hub reads of a client's {@link Spawn} (an ad-hoc actor) or
 * {@link Launch} (a gang rank), and the {@link Spawn} it sends the actor's agent. Malformed parts (a vector beyond
 * {@link Messages#length}, an environment entry without a key, a missing JVM option) are a {@link
 * io.spoke.vertx.ProtocolException}.
 */
public final class SpawnCodec {

  private SpawnCodec() {
  }

  /** The environment a spawn asks for (a client's, or the hub's to an agent), in order (a key given twice keeps its last value). */
  public static Map<String, String> env(Spawn s) {
    return env(s.envLength(), s::env);
  }

  /** The environment a client's launch of a rank asks for, in order (a key given twice keeps its last value). */
  public static Map<String, String> env(Launch l) {
    return env(l.envLength(), l::env);
  }

  /** The GPU ids a Spawn gives the actor (the hub's, to an agent). */
  public static List<Integer> gpuIds(Spawn s) {
    int n = Messages.length(s.gpuIdsLength(), "gpu ids");
    List<Integer> ids = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ids.add(s.gpuIds(i));
    }
    return ids;
  }

  /** The JVM options a spawn asks for (a client's, or the hub's to an agent). */
  /** The managed process a Spawn asks for, with its environment; {@code null} for a Java actor. */
  public static ProcessSpec process(Spawn s) {
    return ProcessCodec.read(s.process(), env(s));
  }

  /** The restart policy a Spawn asks for. */
  public static RestartPolicy restart(Spawn s) {
    return ProcessCodec.readRestart(s.restart());
  }

  /** The liveness check a Spawn asks for. */
  public static Liveness liveness(Spawn s) {
    return ProcessCodec.readLiveness(s.liveness());
  }

  /** The liveness check a Launch asks for. */
  public static Liveness liveness(Launch l) {
    return ProcessCodec.readLiveness(l.liveness());
  }

  /** The restart policy a Launch asks for. */
  public static RestartPolicy restart(Launch l) {
    return ProcessCodec.readRestart(l.restart());
  }

  /** The managed process a Launch asks for, with its environment; {@code null} for a Java actor. */
  public static ProcessSpec process(Launch l) {
    return ProcessCodec.read(l.process(), env(l));
  }

  public static List<String> jvmOptions(Spawn s) {
    return jvmOptions(s.jvmOptionsLength(), s::jvmOptions);
  }

  /** The JVM options a client's launch of a rank asks for. */
  public static List<String> jvmOptions(Launch l) {
    return jvmOptions(l.jvmOptionsLength(), l::jvmOptions);
  }

  private static Map<String, String> env(int length, BiFunction<KeyValue, Integer, KeyValue> at) {
    int n = Messages.length(length, "env");
    Map<String, String> env = new LinkedHashMap<>();
    KeyValue kv = new KeyValue();
    for (int i = 0; i < n; i++) {
      at.apply(kv, i);
      env.put(Messages.nonNull(kv.key(), "env key"), kv.value());
    }
    return env;
  }

  private static List<String> jvmOptions(int length, IntFunction<String> at) {
    int n = Messages.length(length, "jvm options");
    List<String> options = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      options.add(Messages.nonNull(at.apply(i), "jvm option"));
    }
    return options;
  }

  /**
   * The hub's Spawn to an agent: start actor {@code actorId} of {@code actorType} on {@code nodeId} with exactly
   * {@code gpuIds}, within {@code timeoutMs}; {@code slot} is its gang rank, or {@code null} for an ad-hoc actor.
   */
  public static int writeSpawn(FlatBufferBuilder b, String actorType, String actorId, String nodeId, List<Integer> gpuIds,
                               Map<String, String> env, List<String> jvmOptions, long timeoutMs, Slot slot) {
    return writeSpawn(b, actorType, actorId, nodeId, gpuIds, env, jvmOptions, timeoutMs, slot, null, RestartPolicy.never(),
      Liveness.none(), null);
  }

  /**
   * As {@link #writeSpawn(FlatBufferBuilder, String, String, String, List, Map, List, long, Slot)}, of a managed process
   * when {@code process} is given; {@code spawnId} is the hub's id of the spawn (null: none).
   */
  public static int writeSpawn(FlatBufferBuilder b, String actorType, String actorId, String nodeId, List<Integer> gpuIds,
                               Map<String, String> env, List<String> jvmOptions, long timeoutMs, Slot slot, ProcessSpec process,
                               RestartPolicy restart, Liveness liveness, String spawnId) {
    int type = b.createString(actorType);
    int id = b.createString(actorId);
    int node = b.createString(nodeId);
    int[] envOffsets = new int[env.size()];
    int i = 0;
    for (Map.Entry<String, String> e : env.entrySet()) {
      envOffsets[i++] = KeyValue.createKeyValue(b, b.createString(e.getKey()), Messages.string(b, e.getValue()));
    }
    int envVector = Spawn.createEnvVector(b, envOffsets);
    int jvmVector = Messages.stringVector(b, jvmOptions);
    int gpuVector = Messages.intVector(b, gpuIds);
    int slotOffset = slot == null ? 0 : Messages.writeSlot(b, slot);
    int processOffset = ProcessCodec.write(b, process);
    int restartOffset = ProcessCodec.writeRestart(b, restart);
    int livenessOffset = ProcessCodec.writeLiveness(b, liveness);
    int spawnOffset = Messages.string(b, spawnId);
    return Spawn.createSpawn(b, type, id, node, gpuIds.size(), 0, 0, envVector, jvmVector, timeoutMs, gpuVector, slotOffset, processOffset,
      restartOffset, livenessOffset, false, spawnOffset);
  }
}
