// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class AgentOptionsTest {

  @Test
  void hasDocumentedDefaults() {
    AgentOptions o = new AgentOptions();
    assertThat(o.getHubHost()).isEqualTo("127.0.0.1");
    assertThat(o.getHubPort()).isEqualTo(8888);
    assertThat(o.getHost()).isEqualTo("127.0.0.1");
    assertThat(o.getGpus()).isEqualTo(-1);
    assertThat(o.getLogDir()).isEqualTo("spoke-logs");
    assertThat(o.getActorJvmOptions()).isEqualTo(AgentOptions.DEFAULT_ACTOR_JVM_OPTIONS);
    assertThat(o.isLocalSockets()).isTrue();
  }

  @Test
  void roundTripsThroughJsonAndCopies() {
    AgentOptions o = new AgentOptions().setHubHost("10.0.0.1").setHubPort(9000).setPort(7100).setAdvertiseHost("10.0.0.2")
      .setNodeId("gpu-7").setGpus(8).setCpus(64).setMemoryMb(1 << 20).setLogDir("/var/log/spoke").setJavaCommand("/opt/jdk/bin/java")
      .setActorClasspath("/opt/app/*").setActorJvmOptions(List.of("-Xmx8g")).setStopTimeout(1).setMaxSpawnTimeout(2)
      .setReconnectInterval(3).setMaxFrameSize(1 << 20).setLocalSockets(false);
    assertThat(new AgentOptions(o.toJson()).toJson()).isEqualTo(o.toJson());
    assertThat(new AgentOptions(o).toJson()).isEqualTo(o.toJson());
    assertThat(new AgentOptions(o.toJson()).isLocalSockets()).isFalse();
    assertThat(new AgentOptions(o).isLocalSockets()).isFalse();
  }

  @Test
  void validates() {
    assertThatThrownBy(() -> new AgentOptions().setGpus(-2)).hasMessageContaining("gpus");
    assertThatThrownBy(() -> new AgentOptions().setNodeId("a/b")).hasMessageContaining("nodeId");
    assertThatThrownBy(() -> new AgentOptions().setActorJvmOptions(List.of("Xmx"))).hasMessageContaining("actorJvmOptions");
    assertThatThrownBy(() -> new AgentOptions(new JsonObject().put("gpu", 8))).hasMessageContaining("unknown agent option [gpu]");
  }

  @Test
  void mapsTheCommandLineOntoTheSameOptions() {
    AgentOptions o = AgentMain.parse(new ArrayList<>(List.of("--hub", "10.1.2.3:9999", "--gpus", "8", "--memory", "4096",
      "--node-id", "n7", "--port", "7101", "--local-sockets", "false")));
    assertThat(o.getHubHost()).isEqualTo("10.1.2.3");
    assertThat(o.getHubPort()).isEqualTo(9999);
    assertThat(o.getGpus()).isEqualTo(8);
    assertThat(o.getMemoryMb()).isEqualTo(4096);
    assertThat(o.getNodeId()).isEqualTo("n7");
    assertThat(o.getPort()).isEqualTo(7101);
    assertThat(o.isLocalSockets()).isFalse();
    assertThatThrownBy(() -> AgentMain.parse(new ArrayList<>(List.of("--hub", "nohost")))).hasMessageContaining("HOST:PORT");
    assertThatThrownBy(() -> AgentMain.parse(new ArrayList<>(List.of("--gpus", "many")))).hasMessageContaining("takes a number");
  }
}
