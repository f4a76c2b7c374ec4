package io.spoke.vertx.protocol;

import com.google.flatbuffers.FlatBufferBuilder;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.Readiness;
import io.spoke.vertx.protocol.fb.FbProcessSpec;
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
