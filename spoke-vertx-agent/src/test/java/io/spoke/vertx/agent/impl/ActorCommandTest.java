// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.internal.ActorHostLaunch;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The command line and environment an agent starts actor hosts with, as values. */
class ActorCommandTest {

  private static final Slot SLOT = new Slot("t-1", 3, 4, 1, 2, "n1", "10.0.0.1", List.of(5, 7), "10.0.0.9", 29500, "w-3",
    ActorState.STARTING);
  private static final ActorCommand.AgentSide AGENT = new ActorCommand.AgentSide("127.0.0.1", 7100, 4242, "10.0.0.1", 65536, "n1",
    new SecurityOptions(), false);

  private static ActorCommand.ActorSide actor(List<Integer> gpus, Slot slot, String socket) {
    return new ActorCommand.ActorSide("w-3", "Worker", gpus, slot, "s3cr3t", socket);
  }

  @Test
  void theCommandIsJavaItsOptionsTheClassPathAndTheHostsMainClass() {
    assertThat(ActorCommand.command("/jdk/bin/java", List.of("-Xmx64m", "-Da=b"), "a.jar:b.jar"))
      .containsExactly("/jdk/bin/java", "-Xmx64m", "-Da=b", "-cp", "a.jar:b.jar", ActorHostLaunch.MAIN_CLASS);
  }

  @Test
  void theHostIsToldWhereItsAgentIsAndWhoItIs() {
    Map<String, String> env = ActorCommand.environment(Map.of("PATH", "/bin"), Map.of(), actor(List.of(), null, "/tmp/s/w-3.sock"), AGENT);
    assertThat(env).containsEntry("PATH", "/bin")
      .containsEntry(ActorHostLaunch.ENV_AGENT_HOST, "127.0.0.1")
      .containsEntry(ActorHostLaunch.ENV_AGENT_PORT, "7100")
      .containsEntry(ActorHostLaunch.ENV_AGENT_PID, "4242")
      .containsEntry(ActorHostLaunch.ENV_ACTOR_ID, "w-3")
      .containsEntry(ActorHostLaunch.ENV_SECRET, "s3cr3t")
      .containsEntry(ActorHostLaunch.ENV_BIND_HOST, "10.0.0.1")
      .containsEntry(ActorHostLaunch.ENV_LOCAL_SOCKET, "/tmp/s/w-3.sock")
      .containsEntry(ActorHostLaunch.ENV_MAX_FRAME_SIZE, "65536")
      .containsEntry("SPOKE_NODE_ID", "n1")
      .containsEntry("SPOKE_ACTOR_TYPE", "Worker")
      .containsEntry("UCX_LOG_LEVEL", "error");
  }

  @Test
  void theClusterTokenNeverGoesIntoTheEnvironment() {
    Map<String, String> env = ActorCommand.environment(Map.of(SecurityOptions.ENV_TOKEN, "agent's"), Map.of(SecurityOptions.ENV_TOKEN,
      "user's"), actor(List.of(), null, null), AGENT);
    assertThat(env).doesNotContainKey(SecurityOptions.ENV_TOKEN).doesNotContainKey(ActorHostLaunch.ENV_LOCAL_SOCKET);
    assertThat(new String(ActorCommand.tokenLine("tok".getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8)).isEqualTo("tok\n");
    assertThat(ActorCommand.tokenLine(null)).isEqualTo(new byte[] {'\n'});
  }

  @Test
  void theUsersEnvironmentOverridesTheAgentsButNotSpokes() {
    Map<String, String> env = ActorCommand.environment(Map.of("UCX_LOG_LEVEL", "info", "HOME", "/agent"),
      Map.of("HOME", "/user", ActorHostLaunch.ENV_ACTOR_ID, "forged"), actor(List.of(), null, null), AGENT);
    assertThat(env).containsEntry("UCX_LOG_LEVEL", "info").containsEntry("HOME", "/user").containsEntry(ActorHostLaunch.ENV_ACTOR_ID, "w-3");
  }

  @Test
  void anAdHocActorWithoutGpusInheritsTheAgentsDevicesUnlessTheAgentWasGivenASubset() {
    Map<String, String> inherited = Map.of("CUDA_VISIBLE_DEVICES", "0,1");
    assertThat(ActorCommand.environment(inherited, Map.of(), actor(List.of(), null, null), AGENT))
      .containsEntry("CUDA_VISIBLE_DEVICES", "0,1").doesNotContainKey("ROCR_VISIBLE_DEVICES");
    ActorCommand.AgentSide managed = new ActorCommand.AgentSide("127.0.0.1", 7100, 4242, "10.0.0.1", 65536, "n1", new SecurityOptions(),
      true);
    assertThat(ActorCommand.environment(inherited, Map.of(), actor(List.of(), null, null), managed))
      .containsEntry("CUDA_VISIBLE_DEVICES", "").containsEntry("ROCR_VISIBLE_DEVICES", "");
  }

  @Test
  void aGangRankSeesExactlyItsGpusAndTorchDistributedsVariables() {
    Map<String, String> env = ActorCommand.environment(Map.of("CUDA_VISIBLE_DEVICES", "0,1,2,3,4,5,6,7"), Map.of(),
      actor(List.of(5, 7), SLOT, null), AGENT);
    assertThat(env).containsEntry("CUDA_VISIBLE_DEVICES", "5,7").containsEntry("ROCR_VISIBLE_DEVICES", "5,7")
      .containsEntry("CUDA_DEVICE_ORDER", "PCI_BUS_ID")
      .containsEntry("RANK", "3").containsEntry("WORLD_SIZE", "4").containsEntry("LOCAL_RANK", "1").containsEntry("LOCAL_WORLD_SIZE", "2")
      .containsEntry("MASTER_ADDR", "10.0.0.9").containsEntry("MASTER_PORT", "29500").containsEntry("SPOKE_TICKET", "t-1");
  }

  @Test
  void aNodeNotYetNamedHasAnEmptyNodeId() {
    ActorCommand.AgentSide unnamed = new ActorCommand.AgentSide("::1", 1, 2, "::1", 1024, null, new SecurityOptions(), false);
    assertThat(ActorCommand.environment(Map.of(), Map.of(), actor(List.of(), null, null), unnamed)).containsEntry("SPOKE_NODE_ID", "");
  }

  @Test
  void actorHostsReachAWildcardAgentOnLoopback() {
    assertThat(ActorCommand.agentHostForChildren("0.0.0.0")).isEqualTo("127.0.0.1");
    assertThat(ActorCommand.agentHostForChildren("::")).isEqualTo("::1");
    assertThat(ActorCommand.agentHostForChildren("10.0.0.1")).isEqualTo("10.0.0.1");
  }

  @Test
  void theLogStartsWithWhoTheActorIs() {
    String header = ActorCommand.logHeader("w-3", "Worker", "n1", SLOT, List.of(5, 7), Instant.parse("2026-01-02T03:04:05Z"));
    assertThat(header).isEqualTo("# Spoke actor 'w-3' of type Worker on node n1, started 2026-01-02T03:04:05Z\n"
      + "# ticket t-1, rank 3 of 4 (local rank 1 of 2), master 10.0.0.9:29500\n"
      + "# GPUs: [5, 7]\n");
    assertThat(ActorCommand.logHeader("e", "Echo", "n1", null, List.of(), Instant.parse("2026-01-02T03:04:05Z")))
      .endsWith("started 2026-01-02T03:04:05Z\n# GPUs: none\n");
  }

  @Test
  void aGangRankIsToldTheInterfaceOfItsNodesAddressForGlooUnlessItNamesOne() {
    assertThat(ActorCommand.interfaceOf("127.0.0.1")).isEqualTo("lo");
    assertThat(ActorCommand.interfaceOf("192.0.2.1")).as("an address no interface here holds (TEST-NET-1)").isNull();
    assertThat(ActorCommand.interfaceOf(null)).isNull();

    Map<String, String> env = new HashMap<>();
    ActorCommand.gangSocketInterface(env, SLOT, "eth0");
    assertThat(env).containsEntry("GLOO_SOCKET_IFNAME", "eth0");

    Map<String, String> own = new HashMap<>(Map.of("GLOO_SOCKET_IFNAME", "ib0"));
    ActorCommand.gangSocketInterface(own, SLOT, "eth0");
    assertThat(own).as("the rank's own choice stands").containsEntry("GLOO_SOCKET_IFNAME", "ib0");

    Map<String, String> adHoc = new HashMap<>();
    ActorCommand.gangSocketInterface(adHoc, null, "eth0");
    assertThat(adHoc).as("not a gang rank").isEmpty();
    Map<String, String> behindNat = new HashMap<>();
    ActorCommand.gangSocketInterface(behindNat, SLOT, null);
    assertThat(behindNat).as("no interface holds the address").isEmpty();
  }
}
