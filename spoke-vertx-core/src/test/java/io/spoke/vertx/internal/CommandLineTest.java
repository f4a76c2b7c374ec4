// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CommandLineTest {

  private static final JsonObject TEMPLATE = new JsonObject().put("port", 8888).put("heartbeatInterval", 1000L)
    .put("insecure", false).put("jvmOptions", new JsonArray()).put("host", "127.0.0.1");

  private static JsonObject parse(String... args) {
    return CommandLine.parse(List.of(args), TEMPLATE, Set.of("nodeId"), Map.of("memory", "memoryMb"));
  }

  @Test
  void mapsKebabCaseFlagsOntoTypedJsonKeys() {
    JsonObject json = parse("--port", "9000", "--heartbeat-interval=250", "--insecure", "--jvm-options", "-Xmx1g,-Xss1m",
      "--node-id", "n1", "--host", "0.0.0.0");
    assertThat(json).isEqualTo(new JsonObject().put("port", 9000).put("heartbeatInterval", 250L).put("insecure", true)
      .put("jvmOptions", new JsonArray().add("-Xmx1g").add("-Xss1m")).put("nodeId", "n1").put("host", "0.0.0.0"));
  }

  @Test
  void refusesUnknownFlagsListingTheKnownOnes() {
    assertThatThrownBy(() -> parse("--prot", "1")).isInstanceOf(IllegalArgumentException.class)
      .hasMessageContaining("unknown option --prot").hasMessageContaining("--port").hasMessageContaining("--memory");
  }

  @Test
  void refusesValuesOfTheWrongType() {
    assertThatThrownBy(() -> parse("--port", "eighty")).hasMessage("option --port takes a number, got 'eighty'");
    assertThatThrownBy(() -> parse("--port")).hasMessage("option --port needs a value");
    assertThatThrownBy(() -> parse("stray")).hasMessageContaining("unexpected argument 'stray'");
  }

  @Test
  void splitsHostAndPort() {
    assertThat(CommandLine.hostPort("hub", "10.0.0.1:8888", "h", "p")).isEqualTo(new JsonObject().put("h", "10.0.0.1").put("p", 8888));
    assertThat(CommandLine.hostPort("hub", "[::1]:7", "h", "p")).isEqualTo(new JsonObject().put("h", "::1").put("p", 7));
    assertThatThrownBy(() -> CommandLine.hostPort("hub", "localhost", "h", "p")).hasMessageContaining("takes HOST:PORT");
  }

  @Test
  void takesAFlagOutOfTheArguments() {
    List<String> args = new ArrayList<>(List.of("--hub", "h:1", "--gpus", "8"));
    assertThat(CommandLine.take(args, "hub")).isEqualTo("h:1");
    assertThat(args).containsExactly("--gpus", "8");
    assertThat(CommandLine.kebab("maxFrameSize")).isEqualTo("max-frame-size");
  }
}
