// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import io.spoke.vertx.internal.OptionsJson;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A managed process: any command (a torch rank, a vLLM or SGLang server, a C++ worker) that Spoke places, starts and
 * owns as it does a Java actor, with the same GPU isolation, rank environment, log file and death signal. What to run
 * ({@link #setCommand command}, {@link #setEnv env}, {@link #setWorkdir workdir}), how to know it is ready
 * ({@link #setReady ready}), how to stop it ({@link #setStopSignal stopSignal}, then after
 * {@link #setStopGraceMs stopGraceMs} a kill of its whole tree), and how many ports to reserve for it alone on its
 * node ({@link #setPorts ports}, given to it as {@code SPOKE_PORT_0}, {@code SPOKE_PORT_1}, ...).
 * <p>
 * Where it runs, its GPUs, CPUs and memory, and the launch timeout (to ready) are the {@link SpawnOptions} of
 * {@link SpokeClient#spawnProcess} or the ticket's slot of {@link SpokeClient#launchProcess}.
 */
public class ProcessSpec {

  public static final int DEFAULT_STOP_SIGNAL = 15;
  public static final long DEFAULT_STOP_GRACE_MS = 10_000;
  /** The most ports one process may ask for. */
  public static final int MAX_PORTS = 64;

  private static final List<String> KEYS = List.of("command", "env", "workdir", "ready", "stopSignal", "stopGraceMs", "ports");

  private List<String> command = new ArrayList<>();
  private Map<String, String> env = new LinkedHashMap<>();
  private String workdir;
  private Readiness ready = Readiness.none();
  private int stopSignal = DEFAULT_STOP_SIGNAL;
  private long stopGraceMs = DEFAULT_STOP_GRACE_MS;
  private int ports;

  public ProcessSpec() {
  }

  /** A process running {@code command}. */
  public ProcessSpec(List<String> command) {
    setCommand(command);
  }

  public ProcessSpec(ProcessSpec other) {
    this.command = new ArrayList<>(other.command);
    this.env = new LinkedHashMap<>(other.env);
    this.workdir = other.workdir;
    this.ready = other.ready;
    this.stopSignal = other.stopSignal;
    this.stopGraceMs = other.stopGraceMs;
    this.ports = other.ports;
  }

  /** {@code ready} is in {@link Readiness#parse}'s form; unknown keys are refused. */
  public ProcessSpec(JsonObject json) {
    OptionsJson o = new OptionsJson(json, "process", KEYS);
    setCommand(o.strings("command", List.of()));
    setEnv(o.stringMap("env", Map.of()));
    setWorkdir(o.string("workdir", null));
    setReady(Readiness.parse(o.string("ready", null)));
    setStopSignal(o.integer("stopSignal", DEFAULT_STOP_SIGNAL));
    setStopGraceMs(o.longValue("stopGraceMs", DEFAULT_STOP_GRACE_MS));
    setPorts(o.integer("ports", 0));
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
      .put("command", new JsonArray(new ArrayList<>(command)))
      .put("env", new JsonObject(new LinkedHashMap<>(env)))
      .put("ready", ready.toString())
      .put("stopSignal", stopSignal)
      .put("stopGraceMs", stopGraceMs)
      .put("ports", ports);
    if (workdir != null) {
      json.put("workdir", workdir);
    }
    return json;
  }

  public List<String> getCommand() {
    return command;
  }

  /** The program and its arguments, run as they are (no shell): a program without '/' is looked up on PATH. */
  public ProcessSpec setCommand(List<String> command) {
    Objects.requireNonNull(command, "command");
    for (String part : command) {
      if (part == null || part.indexOf('\0') >= 0) {
        throw new IllegalArgumentException("command arguments must be non-null and without NUL characters, got " + command);
      }
    }
    this.command = new ArrayList<>(command);
    return this;
  }

  public Map<String, String> getEnv() {
    return env;
  }

  /** Environment variables on top of the node's and Spoke's own (ranks, GPUs, ports); the rank's variables win. */
  public ProcessSpec setEnv(Map<String, String> env) {
    Objects.requireNonNull(env, "env");
    env.forEach(ProcessSpec::checkEnv);
    this.env = new LinkedHashMap<>(env);
    return this;
  }

  /** Adds one environment variable. */
  public ProcessSpec addEnv(String key, String value) {
    checkEnv(key, value);
    env.put(key, value);
    return this;
  }

  private static void checkEnv(String key, String value) {
    if (key == null || key.isEmpty() || key.indexOf('=') >= 0 || key.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("an environment variable's name must be non-empty, without '=' or NUL, got '" + key + "'");
    }
    if (value == null || value.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("environment variable " + key + " needs a value without NUL characters");
    }
  }

  public String getWorkdir() {
    return workdir;
  }

  /** The directory it starts in, on its node; {@code null} (default) for the agent's. */
  public ProcessSpec setWorkdir(String workdir) {
    if (workdir != null && (workdir.isEmpty() || workdir.indexOf('\0') >= 0)) {
      throw new IllegalArgumentException("workdir must be a non-empty path, got '" + workdir + "'");
    }
    this.workdir = workdir;
    return this;
  }

  public Readiness getReady() {
    return ready;
  }

  /** When its launch completes (default {@link Readiness#none()}: once started). */
  public ProcessSpec setReady(Readiness ready) {
    this.ready = Objects.requireNonNull(ready, "ready");
    return this;
  }

  public int getStopSignal() {
    return stopSignal;
  }

  /** The signal a stop sends first (default 15, SIGTERM); 1..64. */
  public ProcessSpec setStopSignal(int stopSignal) {
    if (stopSignal < 1 || stopSignal > 64) {
      throw new IllegalArgumentException("stopSignal must be a signal number in 1..64, got " + stopSignal);
    }
    this.stopSignal = stopSignal;
    return this;
  }

  public long getStopGraceMs() {
    return stopGraceMs;
  }

  /** How long a stop waits after the signal before it SIGKILLs the whole tree (default 10 s). */
  public ProcessSpec setStopGraceMs(long stopGraceMs) {
    if (stopGraceMs < 0) {
      throw new IllegalArgumentException("stopGraceMs must be >= 0, got " + stopGraceMs);
    }
    this.stopGraceMs = stopGraceMs;
    return this;
  }

  public int getPorts() {
    return ports;
  }

  /** Ports to reserve on its node for it alone, as {@code SPOKE_PORT_0} .. {@code SPOKE_PORT_{n-1}} (default 0). */
  public ProcessSpec setPorts(int ports) {
    if (ports < 0 || ports > MAX_PORTS) {
      throw new IllegalArgumentException("ports must be in 0.." + MAX_PORTS + ", got " + ports);
    }
    this.ports = ports;
    return this;
  }

  /** Throws {@link IllegalArgumentException} when this cannot be launched as it is (no command). */
  public ProcessSpec validate() {
    if (command.isEmpty() || command.get(0).isBlank()) {
      throw new IllegalArgumentException("a process needs a command: its program and arguments, got " + command);
    }
    return this;
  }

  @Override
  public String toString() {
    return "ProcessSpec" + toJson().encode();
  }
}
