// SPDX-License-Identifier: Apache-2.0
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
    assertThat(o.getStateDir()).as("tickets in memory only unless asked").isNull();
  }

  @Test
  void theCommandLineTakesAStateDirectory() {
    JsonObject json = io.spoke.vertx.internal.CommandLine.parse(java.util.List.of("--state-dir", "/tmp/hub-state"), new HubOptions().toJson(),
      HubMain.STRING_KEYS, java.util.Map.of());
    assertThat(new HubOptions(json).getStateDir()).isEqualTo("/tmp/hub-state");
  }

  @Test
  void roundTripsThroughJsonAndCopies() {
    HubOptions o = new HubOptions().setHost("0.0.0.0").setPort(0).setHeartbeatInterval(100).setNodeTimeout(300)
      .setAgentTimeout(5).setMaxFrameSize(1 << 20).setStateDir("/var/lib/spoke");
    assertThat(new HubOptions(o.toJson()).toJson()).isEqualTo(o.toJson());
    assertThat(new HubOptions(o.toJson()).getStateDir()).isEqualTo("/var/lib/spoke");
    assertThat(new HubOptions(o).toJson()).isEqualTo(o.toJson());
  }

  @Test
  void validates() {
    assertThatThrownBy(() -> new HubOptions().setPort(70000)).hasMessageContaining("port");
    assertThatThrownBy(() -> new HubOptions().setHeartbeatInterval(1)).hasMessageContaining("heartbeatInterval");
    assertThatThrownBy(() -> new HubOptions().setStateDir(" ")).hasMessageContaining("stateDir");
    assertThatThrownBy(() -> new HubOptions(new JsonObject().put("heartbeat", 5))).hasMessageContaining("unknown hub option [heartbeat]");
  }

  @Test
  void theCommandLineTakesAnEtcdClusterAndRefusesWhatIsNotOne() {
    JsonObject json = io.spoke.vertx.internal.CommandLine.parse(java.util.List.of("--etcd", "http://10.0.0.1:2379,https://h2:2379",
      "--etcd-prefix", "/spoke/prod", "--lease-ttl", "2000", "--advertise", "10.0.0.5:8888"), new HubOptions().toJson(), HubMain.STRING_KEYS,
      java.util.Map.of());
    HubOptions o = new HubOptions(json);
    assertThat(o.getEtcd()).containsExactly("http://10.0.0.1:2379", "https://h2:2379");
    assertThat(o.getEtcdPrefix()).isEqualTo("/spoke/prod");
    assertThat(o.getLeaseTtl()).isEqualTo(2000);
    assertThat(o.getAdvertise()).isEqualTo("10.0.0.5:8888");
    assertThat(new HubOptions(o.toJson()).toJson()).isEqualTo(o.toJson());
    assertThat(new HubOptions(o).getEtcd()).isEqualTo(o.getEtcd());
    assertThat(new HubOptions().getEtcd()).as("no etcd unless asked").isEmpty();

    assertThatThrownBy(() -> new HubOptions().setEtcd(java.util.List.of("10.0.0.1:2379"))).hasMessageContaining("http://HOST:PORT");
    assertThatThrownBy(() -> new HubOptions().setEtcd(java.util.List.of("http://h1"))).hasMessageContaining("http://HOST:PORT");
    assertThatThrownBy(() -> new HubOptions().setEtcd(java.util.List.of("ftp://h1:2379"))).hasMessageContaining("http://HOST:PORT");
    assertThatThrownBy(() -> new HubOptions().setEtcd(java.util.List.of("http://h1:2379/v3"))).hasMessageContaining("http://HOST:PORT");
    assertThatThrownBy(() -> new HubOptions().setLeaseTtl(1500)).hasMessageContaining("whole seconds");
    assertThatThrownBy(() -> new HubOptions().setLeaseTtl(1000)).hasMessageContaining("from 2000");
    assertThatThrownBy(() -> new HubOptions().setEtcdPrefix("spoke")).hasMessageContaining("start with '/'");
    assertThatThrownBy(() -> new HubOptions().setEtcdPrefix("/spoke/")).hasMessageContaining("not end");
    assertThatThrownBy(() -> new HubOptions().setAdvertise("h1")).hasMessageContaining("HOST:PORT");
  }
}
