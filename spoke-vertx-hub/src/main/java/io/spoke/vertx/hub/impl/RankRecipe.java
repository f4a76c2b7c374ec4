// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.client.Liveness;
import io.spoke.vertx.client.ProcessSpec;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How a rank of a gang-restarting ticket was launched, kept to launch it again ({@link GangRestarts}): its actor id
 * and type, environment, JVM options, timeout, constructor arguments, process and liveness check. The node, GPUs
 * and rendezvous are the ticket's slot's, read again at each start. Journaled with its ticket
 * ({@link JournalRecords}), so that a restarted hub can still restart the gang.
 */
final class RankRecipe {

  final String actorId;
  final String type;
  final Map<String, String> env;
  final List<String> jvmOptions;
  final long timeoutMs;
  /** The constructor's arguments (a copy of the launch's payload), or null. */
  final Buffer args;
  /** The managed process, or null for a Java actor. */
  final ProcessSpec process;
  final Liveness liveness;

  RankRecipe(String actorId, String type, Map<String, String> env, List<String> jvmOptions, long timeoutMs, Buffer args,
             ProcessSpec process, Liveness liveness) {
    this.actorId = Objects.requireNonNull(actorId, "actor");
    this.type = Objects.requireNonNull(type, "type");
    this.env = Map.copyOf(env);
    this.jvmOptions = List.copyOf(jvmOptions);
    this.timeoutMs = timeoutMs;
    // A copy: a launch's arguments are a view of its frame, which is released once the launch is handled.
    this.args = args == null || args.length() == 0 ? null : args.copy();
    this.process = process;
    this.liveness = liveness == null ? Liveness.none() : liveness;
  }

  JsonObject toJson() {
    JsonObject json = new JsonObject().put("actor", actorId).put("type", type).put("env", new JsonObject(new LinkedHashMap<>(env)))
      .put("jvmOptions", new JsonArray(new ArrayList<>(jvmOptions))).put("timeoutMs", timeoutMs);
    if (args != null) {
      json.put("args", Base64.getEncoder().encodeToString(args.getBytes()));
    }
    if (process != null) {
      json.put("process", process.toJson());
    }
    if (liveness.kind() != Liveness.Kind.NONE) {
      json.put("liveness", new JsonObject().put("kind", liveness.kind().name()).put("target", liveness.target())
        .put("intervalMs", liveness.intervalMs()).put("failures", liveness.failures()));
    }
    return json;
  }

  /** The recipe {@code json} holds; an exception (which the journal's reader reports) when it is malformed. */
  static RankRecipe fromJson(JsonObject json) {
    Map<String, String> env = new LinkedHashMap<>();
    json.getJsonObject("env", new JsonObject()).forEach(e -> env.put(e.getKey(), (String) e.getValue()));
    List<String> jvmOptions = new ArrayList<>();
    json.getJsonArray("jvmOptions", new JsonArray()).forEach(o -> jvmOptions.add((String) o));
    String args = json.getString("args");
    JsonObject process = json.getJsonObject("process");
    JsonObject l = json.getJsonObject("liveness");
    Liveness liveness = l == null ? Liveness.none()
      : Liveness.of(Liveness.Kind.valueOf(l.getString("kind")), l.getString("target"), l.getLong("intervalMs"), l.getInteger("failures"));
    return new RankRecipe(json.getString("actor"), json.getString("type"), env, jvmOptions, json.getLong("timeoutMs"),
      args == null ? null : Buffer.buffer(Base64.getDecoder().decode(args)), process == null ? null : new ProcessSpec(process), liveness);
  }
}
