// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SpawnOptionsTest {

  @Test
  void defaultsToNoResourcesAndTheClientsTimeout() {
    SpawnOptions o = new SpawnOptions();
    assertThat(o.getNode()).isNull();
    assertThat(o.getGpus()).isZero();
    assertThat(o.getTimeout()).isZero();
    assertThat(o.getEnv()).isEmpty();
    assertThat(o.getArgs()).isNull();
  }

  @Test
  void roundTripsThroughJsonAndCopies() {
    SpawnOptions o = new SpawnOptions().setNode("node-1").setArgs(Buffer.buffer(new byte[] {0, 1, 2})).setEnv(Map.of("A", "1"))
      .setGpus(2).setCpus(4).setMemoryMb(1024).setJvmOptions(List.of("-Xmx1g")).setTimeout(5000);
    SpawnOptions back = new SpawnOptions(o.toJson());
    assertThat(back.toJson()).isEqualTo(o.toJson());
    assertThat(back.getArgs()).isEqualTo(o.getArgs());
    assertThat(new SpawnOptions(o).toJson()).isEqualTo(o.toJson());
  }

  @Test
  void validates() {
    SpawnOptions o = new SpawnOptions();
    assertThatThrownBy(() -> o.setGpus(-1)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gpus");
    assertThatThrownBy(() -> o.setNode("../etc")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("node id");
    assertThatThrownBy(() -> o.setJvmOptions(List.of("Xmx1g"))).isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("not a JVM option");
    assertThatThrownBy(() -> o.setEnv(Map.of("A=B", "x"))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("env");
    assertThatThrownBy(() -> new SpawnOptions(new JsonObject().put("gpu", 1))).isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("unknown spawn option [gpu]");
  }
}
