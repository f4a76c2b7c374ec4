// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.protocol.ProtocolVersion;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class SpokeClientOptionsTest {

  @Test
  void hasDocumentedDefaults() {
    SpokeClientOptions o = new SpokeClientOptions();
    assertThat(o.getHubHost()).isEqualTo("127.0.0.1");
    assertThat(o.getHubPort()).isEqualTo(8888);
    assertThat(o.getCallTimeout()).isEqualTo(SpokeClientOptions.DEFAULT_CALL_TIMEOUT);
    assertThat(o.getSpawnTimeout()).isEqualTo(SpokeClientOptions.DEFAULT_SPAWN_TIMEOUT);
    assertThat(o.getMaxFrameSize()).isEqualTo(ProtocolVersion.DEFAULT_MAX_FRAME_SIZE);
    assertThat(o.getName()).isNull();
    assertThat(o.isLocalSockets()).isTrue();
  }

  @Test
  void roundTripsThroughJsonAndCopies() {
    SpokeClientOptions o = new SpokeClientOptions().setHubHost("10.0.0.1").setHubPort(9000).setName("trainer")
      .setConnectTimeout(1).setRequestTimeout(2).setCallTimeout(3).setSpawnTimeout(4).setMaxFrameSize(1 << 20).setLocalSockets(false);
    assertThat(new SpokeClientOptions(o.toJson()).toJson()).isEqualTo(o.toJson());
    assertThat(new SpokeClientOptions(o).toJson()).isEqualTo(o.toJson());
    assertThat(o.toJson().getString("name")).isEqualTo("trainer");
    assertThat(new SpokeClientOptions(o.toJson()).isLocalSockets()).isFalse();
    assertThat(new SpokeClientOptions(o).isLocalSockets()).isFalse();
  }

  @Test
  void validatesEachSetterNamingTheParameter() {
    SpokeClientOptions o = new SpokeClientOptions();
    assertThatThrownBy(() -> o.setHubPort(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("hubPort");
    assertThatThrownBy(() -> o.setHubHost(" ")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("hubHost");
    assertThatThrownBy(() -> o.setCallTimeout(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("callTimeout");
    assertThatThrownBy(() -> o.setMaxFrameSize(10)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxFrameSize");
  }

  @Test
  void refusesUnknownAndMistypedJsonKeys() {
    assertThatThrownBy(() -> new SpokeClientOptions(new JsonObject().put("hubPrt", 1)))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown client option [hubPrt]").hasMessageContaining("hubPort");
    assertThatThrownBy(() -> new SpokeClientOptions(new JsonObject().put("hubPort", "8888")))
      .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'hubPort' must be a number");
  }
}
