// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import io.spoke.vertx.internal.OptionsJson;
import io.spoke.vertx.protocol.Names;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How to start one actor: where, with which resources, arguments and environment.
 */
public class SpawnOptions {

  private static final List<String> KEYS = List.of("node", "args", "env", "gpus", "cpus", "memoryMb", "jvmOptions", "timeout", "restart", "liveness",
    "waitForResources");

  private String node;
  private Buffer args;
  private Map<String, String> env = new LinkedHashMap<>();
  private int gpus;
  private int cpus;
  private long memoryMb;
  private List<String> jvmOptions = new ArrayList<>();
  private long timeout;
  private RestartPolicy restart = RestartPolicy.never();
  private Liveness liveness = Liveness.none();
  private boolean waitForResources;

  public SpawnOptions() {
  }

  public SpawnOptions(SpawnOptions other) {
    this.node = other.node;
    this.args = other.args;
    this.env = new LinkedHashMap<>(other.env);
    this.gpus = other.gpus;
    this.cpus = other.cpus;
    this.memoryMb = other.memoryMb;
    this.jvmOptions = new ArrayList<>(other.jvmOptions);
    this.timeout = other.timeout;
    this.restart = other.restart;
    this.liveness = other.liveness;
    this.waitForResources = other.waitForResources;
  }

  /** {@code args} is Base64 text. */
  public SpawnOptions(JsonObject json) {
    OptionsJson o = new OptionsJson(json, "spawn", KEYS);
    setNode(o.string("node", null));
    String encoded = o.string("args", null);
    setArgs(encoded == null ? null : Buffer.buffer(Base64.getDecoder().decode(encoded)));
    setEnv(o.stringMap("env", Map.of()));
    setGpus(o.integer("gpus", 0));
    setCpus(o.integer("cpus", 0));
    setMemoryMb(o.longValue("memoryMb", 0));
    setJvmOptions(o.strings("jvmOptions", List.of()));
    setTimeout(o.longValue("timeout", 0));
    JsonObject restartJson = o.object("restart");
    setRestart(restartJson == null ? RestartPolicy.never() : RestartPolicy.fromJson(restartJson));
    setLiveness(Liveness.parse(o.string("liveness", null)));
    setWaitForResources(o.bool("waitForResources", false));
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
      .put("env", new JsonObject(new LinkedHashMap<>(env)))
      .put("gpus", gpus)
      .put("cpus", cpus)
      .put("memoryMb", memoryMb)
      .put("jvmOptions", new JsonArray(new ArrayList<>(jvmOptions)))
      .put("timeout", timeout)
      .put("restart", restart.toJson())
      .put("waitForResources", waitForResources);
    if (liveness.kind() != Liveness.Kind.NONE) {
      json.put("liveness", liveness.kind() == Liveness.Kind.PING ? "ping" : liveness.asReadiness().toString());
    }
    if (node != null) {
      json.put("node", node);
    }
    if (args != null) {
      json.put("args", Base64.getEncoder().encodeToString(args.getBytes()));
    }
    return json;
  }

  public boolean isWaitForResources() {
    return waitForResources;
  }

  /**
   * Whether a spawn that finds no node registered yet, or none with room now, waits for one (a node that registers,
   * an actor that ends) within its timeout, instead of failing at once with a {@code SchedulingException}; waiting
   * counts against the timeout. Default false.
   */
  public SpawnOptions setWaitForResources(boolean waitForResources) {
    this.waitForResources = waitForResources;
    return this;
  }

  public String getNode() {
    return node;
  }

  /** The node (agent id) to start the actor on; {@code null} lets the hub choose the least loaded node that fits. */
  public SpawnOptions setNode(String node) {
    if (node != null) {
      String error = Names.checkId("node id", node);
      if (error != null) {
        throw new IllegalArgumentException(error);
      }
    }
    this.node = node;
    return this;
  }

  public Buffer getArgs() {
    return args;
  }

  /** Constructor arguments, given to the actor as {@code actorContext().args()}. */
  public SpawnOptions setArgs(Buffer args) {
    this.args = args;
    return this;
  }

  public Map<String, String> getEnv() {
    return env;
  }

  /** Extra environment variables for the actor's process. */
  public SpawnOptions setEnv(Map<String, String> env) {
    for (String key : env.keySet()) {
      if (key.isEmpty() || key.indexOf('=') >= 0 || key.indexOf('\0') >= 0) {
        throw new IllegalArgumentException("env: '" + key + "' is not a valid environment variable name");
      }
    }
    this.env = new LinkedHashMap<>(env);
    return this;
  }

  public SpawnOptions putEnv(String name, String value) {
    Map<String, String> copy = new LinkedHashMap<>(env);
    copy.put(name, value);
    return setEnv(copy);
  }

  public int getGpus() {
    return gpus;
  }

  /** GPUs to reserve; the actor sees exactly these in {@code CUDA_VISIBLE_DEVICES}. 0 (default): none reserved. */
  public SpawnOptions setGpus(int gpus) {
    if (gpus < 0) {
      throw new IllegalArgumentException("gpus must not be negative, got " + gpus);
    }
    this.gpus = gpus;
    return this;
  }

  public int getCpus() {
    return cpus;
  }

  /** CPUs to reserve (accounting only). */
  public SpawnOptions setCpus(int cpus) {
    if (cpus < 0) {
      throw new IllegalArgumentException("cpus must not be negative, got " + cpus);
    }
    this.cpus = cpus;
    return this;
  }

  public long getMemoryMb() {
    return memoryMb;
  }

  /** Memory to reserve, in MiB (accounting only). */
  public SpawnOptions setMemoryMb(long memoryMb) {
    if (memoryMb < 0) {
      throw new IllegalArgumentException("memoryMb must not be negative, got " + memoryMb);
    }
    this.memoryMb = memoryMb;
    return this;
  }

  public List<String> getJvmOptions() {
    return jvmOptions;
  }

  /**
   * Extra options for the actor's JVM, e.g. {@code -Xmx4g}. An actor with any starts in a JVM of its own (a warm host's
   * JVM was started without them). A cold start asked for ({@link #setColdStart}) stays asked for.
   */
  public SpawnOptions setJvmOptions(List<String> jvmOptions) {
    for (String option : jvmOptions) {
      if (option == null || !option.startsWith("-")) {
        throw new IllegalArgumentException("jvmOptions: '" + option + "' is not a JVM option (they start with '-')");
      }
    }
    boolean cold = isColdStart();
    this.jvmOptions = new ArrayList<>(jvmOptions);
    return setColdStart(cold || isColdStart());
  }

  /** The JVM option that {@link #setColdStart} adds: the actor can read it as {@code Boolean.getBoolean("spoke.coldStart")}. */
  public static final String COLD_START_OPTION = "-Dspoke.coldStart=true";

  public boolean isColdStart() {
    return jvmOptions.contains(COLD_START_OPTION);
  }

  /**
   * Starts the actor in a JVM of its own, never in a warm host of its agent's pool: for an actor that needs its GPUs
   * and gang rank in its process environment when its JVM starts ({@link System#getenv()}: a native library that
   * reads {@code CUDA_VISIBLE_DEVICES} itself, say), rather than from {@code ActorContext.env()}. It adds
   * {@link #COLD_START_OPTION} to the JVM options, which a warm host's JVM was not started with. An actor with an
   * environment of its own ({@link #setEnv}) or other JVM options starts cold anyway.
   */
  public SpawnOptions setColdStart(boolean coldStart) {
    jvmOptions.remove(COLD_START_OPTION);
    if (coldStart) {
      jvmOptions.add(COLD_START_OPTION);
    }
    return this;
  }

  public long getTimeout() {
    return timeout;
  }

  /** Milliseconds until the actor must be ready; 0 (default) uses the client's {@code spawnTimeout}. */
  public SpawnOptions setTimeout(long timeout) {
    if (timeout < 0) {
      throw new IllegalArgumentException("timeout must not be negative, got " + timeout);
    }
    this.timeout = timeout;
    return this;
  }

  public RestartPolicy getRestart() {
    return restart;
  }

  /**
   * Whether, and how often, the actor or process is started again in place when it dies (default
   * {@link RestartPolicy#never()}).
   */
  public SpawnOptions setRestart(RestartPolicy restart) {
    this.restart = java.util.Objects.requireNonNull(restart, "restart");
    return this;
  }

  public Liveness getLiveness() {
    return liveness;
  }

  /** How its agent checks that it is alive once ready (default {@link Liveness#none()}). */
  public SpawnOptions setLiveness(Liveness liveness) {
    this.liveness = java.util.Objects.requireNonNull(liveness, "liveness");
    return this;
  }
}
