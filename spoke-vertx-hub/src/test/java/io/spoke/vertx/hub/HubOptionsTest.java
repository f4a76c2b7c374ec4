package io.spoke.vertx.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class HubOptionsTest {

  @Test
  void hasDocumentedDefaults() {
    HubOptions o = new HubOptions();
    assertThat(o.getHost()).isEqualTo("127.0.0.1");
    assertThat(o.getPort()).isEqualTo(8888);
    assertThat(o.getHeartbeatInterval()).isEqualTo(1000);
    assertThat(o.getNodeTimeout()).isEqualTo(5000);
  }

  @Test
  void roundTripsThroughJsonAndCopies() {
    HubOptions o = new HubOptions().setHost("0.0.0.0").setPort(0).setHeartbeatInterval(100).setNodeTimeout(300)
      .setAgentTimeout(5).setMaxFrameSize(1 << 20);
    assertThat(new HubOptions(o.toJson()).toJson()).isEqualTo(o.toJson());
    assertThat(new HubOptions(o).toJson()).isEqualTo(o.toJson());
  }

  @Test
  void validates() {
    assertThatThrownBy(() -> new HubOptions().setPort(70000)).hasMessageContaining("port");
    assertThatThrownBy(() -> new HubOptions().setHeartbeatInterval(1)).hasMessageContaining("heartbeatInterval");
    assertThatThrownBy(() -> new HubOptions(new JsonObject().put("heartbeat", 5))).hasMessageContaining("unknown hub option [heartbeat]");
  }
}
