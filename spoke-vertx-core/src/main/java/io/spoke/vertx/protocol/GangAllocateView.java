// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import io.spoke.vertx.protocol.fb.GangAllocate;
import java.util.Map;

/**
 * A client's request for a gang, read in place: valid until the frame is released. {@link #strategy()} is the raw
 * ordinal, for the hub to check.
 */
public final class GangAllocateView {

  private final GangAllocate gang;

  GangAllocateView(GangAllocate gang) {
    this.gang = gang;
  }

  public String ticket() {
    return gang.ticket();
  }

  public int nodes() {
    return gang.nodes();
  }

  public int actorsPerNode() {
    return gang.actorsPerNode();
  }

  public int gpus() {
    return gang.gpus();
  }

  public int cpus() {
    return gang.cpus();
  }

  public long memoryMb() {
    return gang.memoryMb();
  }

  /** Custom resources per actor, in order. */
  public Map<String, Long> custom() {
    return Messages.readQuantities(gang.customLength(), gang::custom);
  }

  /** The ordinal of a {@link io.spoke.vertx.client.PlacementStrategy}, unchecked. */
  public byte strategy() {
    return gang.strategy();
  }

  /** The node asked for rank 0, or null or empty for any. */
  public String preferredNode() {
    return gang.preferredNode();
  }

  public long timeoutMs() {
    return gang.timeoutMs();
  }

  public boolean waitForResources() {
    return gang.waitForResources();
  }

  public boolean detached() {
    return gang.detached();
  }

  /** The gang restart policy ({@link io.spoke.vertx.client.RestartPolicy#never()} when none); an IllegalArgumentException when malformed. */
  public io.spoke.vertx.client.RestartPolicy restart() {
    return ProcessCodec.readRestart(gang.restart());
  }
}
