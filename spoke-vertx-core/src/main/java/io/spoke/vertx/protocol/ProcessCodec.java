// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import com.google.flatbuffers.FlatBufferBuilder;
import io.spoke.vertx.client.Liveness;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.Readiness;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.protocol.fb.FbLiveness;
import io.spoke.vertx.protocol.fb.FbProcessSpec;
import io.spoke.vertx.protocol.fb.FbRestartPolicy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A managed process's spec ({@link ProcessSpec}) inside a Spawn or a Launch: the command, the working directory, the
 * readiness check, the stop signal and grace period, and the ports to reserve. The process's own environment travels
 * in the message's {@code env}, as a Java actor's does.
 */
public final class ProcessCodec {

  private ProcessCodec() {
  }

  /** Writes {@code spec} (without its environment); 0 when {@code spec} is {@code null}: a Java actor. */
  static int write(FlatBufferBuilder b, ProcessSpec spec) {
    if (spec == null) {
      return 0;
    }
    int command = Messages.stringVector(b, spec.getCommand());
    int workdir = Messages.string(b, spec.getWorkdir());
    int ready = b.createString(spec.getReady().toString());
    return FbProcessSpec.createFbProcessSpec(b, command, workdir, ready, spec.getStopSignal(), spec.getStopGraceMs(), spec.getPorts());
  }

  /** Writes {@code liveness}; 0 for {@link Liveness#none()}. */
  static int writeLiveness(FlatBufferBuilder b, Liveness liveness) {
    if (liveness == null || liveness.kind() == Liveness.Kind.NONE) {
      return 0;
    }
    int target = b.createString(liveness.target());
    return FbLiveness.createFbLiveness(b, (byte) liveness.kind().ordinal(), target, liveness.intervalMs(), liveness.failures());
  }

  /** The check {@code t} says; {@link Liveness#none()} when absent. An {@link IllegalArgumentException} when out of range. */
  static Liveness readLiveness(FbLiveness t) {
    if (t == null) {
      return Liveness.none();
    }
    Liveness.Kind[] kinds = Liveness.Kind.values();
    if (t.kind() < 0 || t.kind() >= kinds.length) {
      throw new IllegalArgumentException("unknown liveness check kind " + t.kind());
    }
    return Liveness.of(kinds[t.kind()], t.target(), t.intervalMs(), t.failures());
  }

  /** Writes {@code policy}; 0 for {@link RestartPolicy#never()}, which is what an absent policy reads as. */
  static int writeRestart(FlatBufferBuilder b, RestartPolicy policy) {
    if (policy == null || policy.mode() == RestartPolicy.Mode.NEVER) {
      return 0;
    }
    return FbRestartPolicy.createFbRestartPolicy(b, (byte) policy.mode().ordinal(), policy.maxRestarts(), policy.windowMs(),
      policy.backoffMs());
  }

  /** The policy {@code t} says; {@link RestartPolicy#never()} when absent. An {@link IllegalArgumentException} when out of range. */
  static RestartPolicy readRestart(FbRestartPolicy t) {
    if (t == null) {
      return RestartPolicy.never();
    }
    RestartPolicy.Mode[] modes = RestartPolicy.Mode.values();
    if (t.mode() < 0 || t.mode() >= modes.length) {
      throw new IllegalArgumentException("unknown restart mode " + t.mode());
    }
    return RestartPolicy.of(modes[t.mode()], t.maxRestarts(), t.windowMs(), t.backoffMs());
  }

  /**
   * The spec {@code t} carries with environment {@code env}; {@code null} when {@code t} is: a Java actor. Throws
   * {@link IllegalArgumentException} (a bad request) when a field is out of range.
   */
  static ProcessSpec read(FbProcessSpec t, Map<String, String> env) {
    if (t == null) {
      return null;
    }
    int n = Messages.length(t.commandLength(), "command");
    List<String> command = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      command.add(Messages.nonNull(t.command(i), "command argument"));
    }
    return new ProcessSpec(command)
      .setEnv(new LinkedHashMap<>(env))
      .setWorkdir(t.workdir() == null || t.workdir().isEmpty() ? null : t.workdir())
      .setReady(Readiness.parse(t.ready()))
      .setStopSignal(t.stopSignal())
      .setStopGraceMs(t.stopGraceMs())
      .setPorts(t.ports());
  }
}
