// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.internal.CommandLine;
import io.vertx.core.json.JsonArray;
import io.vertx.core.net.SocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class HubEndpointsTest {

  @Test
  void readsHostsAndPortsAndRefusesWhatIsNotOne() {
    assertThat(HubEndpoints.parse("10.0.0.1:8888")).isEqualTo(SocketAddress.inetSocketAddress(8888, "10.0.0.1"));
    assertThat(HubEndpoints.parse("[::1]:7")).isEqualTo(SocketAddress.inetSocketAddress(7, "::1"));
    assertThat(HubEndpoints.format("::1", 7)).isEqualTo("[::1]:7");
    assertThat(HubEndpoints.format("h1", 8888)).isEqualTo("h1:8888");
    for (String bad : new String[] {"h1", "h1:", ":8888", "h1:0", "h1:70000", "h1:port"}) {
      assertThatThrownBy(() -> HubEndpoints.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("HOST:PORT");
    }
    assertThatThrownBy(() -> new HubEndpoints(List.of())).hasMessageContaining("no hub");
  }

  @Test
  void listsEachHubOnceAndFallsBackToTheOneHubOfHostAndPort() {
    HubEndpoints hubs = new HubEndpoints(List.of("a:1", "b:2", "a:1"));
    assertThat(hubs.hubs()).extracting(SocketAddress::port).containsExactly(1, 2);
    assertThat(hubs.describe()).isEqualTo("a:1, b:2");
    assertThat(hubs.current().port()).isEqualTo(1);
    assertThat(HubEndpoints.of(List.of(), "127.0.0.1", 8888).hubs()).containsExactly(SocketAddress.inetSocketAddress(8888, "127.0.0.1"));
  }

  @Test
  void theCommandLineTakesSeveralHubs() {
    assertThat(CommandLine.hubs("hub", "h1:1").containsKey("hubAddresses")).isFalse();
    assertThat(CommandLine.hubs("hub", "h1:1, h2:2").getJsonArray("hubAddresses")).isEqualTo(new JsonArray().add("h1:1").add("h2:2"));
    assertThat(CommandLine.hubs("hub", "h1:1,h2:2").getString("hubHost")).isEqualTo("h1");
    assertThatThrownBy(() -> CommandLine.hubs("hub", "h1:1,h2")).hasMessageContaining("HOST:PORT");
  }
}
