// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import static io.spoke.vertx.agent.AgentOptions.DEFAULT_ACTOR_CDS;
import static io.spoke.vertx.agent.AgentOptions.DEFAULT_ACTOR_JVM_OPTIONS;
import static io.spoke.vertx.agent.AgentOptions.DEFAULT_HOST;
import static io.spoke.vertx.agent.AgentOptions.DEFAULT_HUB_HOST;
import static io.spoke.vertx.agent.AgentOptions.DEFAULT_HUB_PORT;
import static io.spoke.vertx.agent.AgentOptions.DEFAULT_LOCAL_SOCKETS;
import static io.spoke.vertx.agent.AgentOptions.DEFAULT_LOG_DIR;
import static io.spoke.vertx.agent.AgentOptions.DEFAULT_MASTER_PORT_RANGE;
import static io.spoke.vertx.agent.AgentOptions.DEFAULT_MAX_FRAME_SIZE;
import static io.spoke.vertx.agent.AgentOptions.DEFAULT_MAX_SPAWN_TIMEOUT;
import static io.spoke.vertx.agent.AgentOptions.DEFAULT_PORT;
import static io.spoke.vertx.agent.AgentOptions.DEFAULT_RECONNECT_INTERVAL;
import static io.spoke.vertx.agent.AgentOptions.DEFAULT_STOP_TIMEOUT;
import static io.spoke.vertx.agent.AgentOptions.DEFAULT_WARM_POOL;
import static io.spoke.vertx.agent.AgentOptions.DEFAULT_WARM_POOL_MEMORY_MB;
import static io.spoke.vertx.internal.OptionsJson.putIfSet;

import io.spoke.vertx.SecurityOptions;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.internal.OptionsJson;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** {@link AgentOptions} to and from JSON (a config file, or {@code spoke agent}'s flags through {@code CommandLine}). */
public final class AgentOptionsJson {

  private static final List<String> KEYS = Stream.concat(Stream.of("hubHost", "hubPort", "hubAddresses", "host", "port", "advertiseHost", "nodeId",
    "gpus", "cpus", "memoryMb", "resources", "logDir", "javaCommand", "actorClasspath", "actorJvmOptions", "stopTimeout", "maxSpawnTimeout",
    "reconnectInterval", "maxFrameSize", "masterPortRange", "actorCds", "localSockets",
    "httpPort", "warmPool", "warmPoolMemoryMb"), SecurityOptions.KEYS.stream()).collect(Collectors.toList());

  private AgentOptionsJson() {
  }

  /** Sets {@code o} from {@code json}; a key left out takes its default. */
  public static void read(AgentOptions o, JsonObject json) {
    OptionsJson j = new OptionsJson(json, "agent", KEYS);
    o.setHubHost(j.string("hubHost", DEFAULT_HUB_HOST));
    o.setHubPort(j.integer("hubPort", DEFAULT_HUB_PORT));
    o.setHubAddresses(j.strings("hubAddresses", List.of()));
    o.setHost(j.string("host", DEFAULT_HOST));
    o.setPort(j.integer("port", DEFAULT_PORT));
    o.setAdvertiseHost(j.string("advertiseHost", null));
    o.setNodeId(j.string("nodeId", null));
    o.setGpus(j.integer("gpus", -1));
    o.setCpus(j.integer("cpus", -1));
    o.setMemoryMb(j.longValue("memoryMb", -1));
    o.setResources(j.longMap("resources", Map.of()));
    o.setLogDir(j.string("logDir", DEFAULT_LOG_DIR));
    o.setJavaCommand(j.string("javaCommand", null));
    o.setActorClasspath(j.string("actorClasspath", null));
    o.setActorJvmOptions(j.strings("actorJvmOptions", DEFAULT_ACTOR_JVM_OPTIONS));
    o.setActorCds(j.bool("actorCds", DEFAULT_ACTOR_CDS));
    o.setLocalSockets(j.bool("localSockets", DEFAULT_LOCAL_SOCKETS));
    o.setStopTimeout(j.longValue("stopTimeout", DEFAULT_STOP_TIMEOUT));
    o.setMaxSpawnTimeout(j.longValue("maxSpawnTimeout", DEFAULT_MAX_SPAWN_TIMEOUT));
    o.setReconnectInterval(j.longValue("reconnectInterval", DEFAULT_RECONNECT_INTERVAL));
    o.setMaxFrameSize(j.integer("maxFrameSize", DEFAULT_MAX_FRAME_SIZE));
    o.setMasterPortRange(j.string("masterPortRange", DEFAULT_MASTER_PORT_RANGE));
    o.setSecurity(j.security());
    o.setHttpPort(j.integer("httpPort", -1));
    o.setWarmPool(j.integer("warmPool", DEFAULT_WARM_POOL));
    o.setWarmPoolMemoryMb(j.longValue("warmPoolMemoryMb", DEFAULT_WARM_POOL_MEMORY_MB));
  }

  public static JsonObject write(AgentOptions o) {
    JsonObject json = new JsonObject()
      .put("hubHost", o.getHubHost())
      .put("hubPort", o.getHubPort())
      .put("host", o.getHost())
      .put("port", o.getPort())
      .put("gpus", o.getGpus())
      .put("cpus", o.getCpus())
      .put("memoryMb", o.getMemoryMb())
      .put("resources", new JsonObject(new LinkedHashMap<>(o.getResources())))
      .put("logDir", o.getLogDir())
      .put("actorJvmOptions", new JsonArray(new ArrayList<>(o.getActorJvmOptions())))
      .put("actorCds", o.isActorCds())
      .put("localSockets", o.isLocalSockets())
      .put("stopTimeout", o.getStopTimeout())
      .put("maxSpawnTimeout", o.getMaxSpawnTimeout())
      .put("reconnectInterval", o.getReconnectInterval())
      .put("maxFrameSize", o.getMaxFrameSize())
      .put("masterPortRange", o.getMasterPortRange())
      .put("httpPort", o.getHttpPort())
      .put("warmPool", o.getWarmPool())
      .put("warmPoolMemoryMb", o.getWarmPoolMemoryMb())
      .mergeIn(o.getSecurity().addTo(new JsonObject()));
    if (!o.getHubAddresses().isEmpty()) {
      json.put("hubAddresses", new JsonArray(o.getHubAddresses()));
    }
    putIfSet(json, "advertiseHost", o.getAdvertiseHost());
    putIfSet(json, "nodeId", o.getNodeId());
    putIfSet(json, "javaCommand", o.getJavaCommand());
    putIfSet(json, "actorClasspath", o.getActorClasspath());
    return json;
  }
}
