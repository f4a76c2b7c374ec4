// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import io.spoke.vertx.client.Liveness;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.protocol.fb.Launch;
import java.util.List;
import java.util.Map;

/** A client's launch of an actor into a rank of its ticket, read in place: valid until the frame is released. */
public final class LaunchView {

  private final Launch launch;

  LaunchView(Launch launch) {
    this.launch = launch;
  }

  public String ticket() {
    return launch.ticket();
  }

  public int rank() {
    return launch.rank();
  }

  public String actorType() {
    return launch.actorType();
  }

  public String actorId() {
    return launch.actorId();
  }

  public long timeoutMs() {
    return launch.timeoutMs();
  }

  /** The environment, in order ({@link SpawnCodec#env(Launch)}). */
  public Map<String, String> env() {
    return SpawnCodec.env(launch);
  }

  /** The managed process to start instead of a Java actor; null for a Java actor. As {@link SpawnView#process()}. */
  public ProcessSpec process() {
    return SpawnCodec.process(launch);
  }

  /** Its restart policy, as {@link SpawnView#restart()}. */
  public RestartPolicy restart() {
    return SpawnCodec.restart(launch);
  }

  /** Its liveness check, as {@link SpawnView#liveness()}. */
  public Liveness liveness() {
    return SpawnCodec.liveness(launch);
  }

  public List<String> jvmOptions() {
    return SpawnCodec.jvmOptions(launch);
  }
}
