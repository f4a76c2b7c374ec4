// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor.impl;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;

/**
 * Entry point of an actor host process, started by an agent (never by hand). The agent arms
 * {@code PR_SET_PDEATHSIG} before this JVM starts; the first thing done here closes the remaining race: if
 * the agent died before the signal was armed, this process has already been re-parented, and exits.
 */
public final class ActorHostMain {

  public static final int EXIT_OK = 0;
  public static final int EXIT_START_FAILED = 1;
  public static final int EXIT_AGENT_LOST = 2;
  public static final int EXIT_ORPHANED = 3;
  public static final int EXIT_STOP_TIMEOUT = 4;

  private ActorHostMain() {
  }

  /** {@code -Dspoke.actorLogging=log4j-core}: log through log4j-core and its configuration instead. */
  public static final String LOGGING_PROPERTY = "spoke.actorLogging";

  public static void main(String[] args) {
    configureLogging();
    ActorHostConfig config;
    try {
      config = new ActorHostConfig(System.getenv(), readToken());
    } catch (IllegalArgumentException | java.io.IOException e) {
      System.err.println(e.getMessage());
      System.exit(EXIT_START_FAILED);
      return;
    }
    long parent = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L);
    if (parent != config.agentPid) {
      System.err.println("Actor " + config.actorId + ": agent " + config.agentPid + " exited before this process started (parent is now "
        + parent + "); exiting");
      System.exit(EXIT_ORPHANED);
    }
    // An actor host only connects to its agent, by address: Netty's DNS resolver, which Vert.x would build on the
    // event loop at the first connect (a UDP channel, many classes), is not needed; the JDK's is used.
    if (System.getProperty("vertx.disableDnsResolver") == null) {
      System.setProperty("vertx.disableDnsResolver", "true");
    }
    // One event loop: an actor is single-threaded by design; blocking methods use the worker pool. A blocked
    // event loop is reported with its stack from the first warning on, so that the log shows where.
    // -Dspoke.nativeTransport=true: Netty's native transport (epoll), when its jar is on the class path.
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1)
      .setPreferNativeTransport(Boolean.getBoolean("spoke.nativeTransport"))
      .setWarningExceptionTime(VertxOptions.DEFAULT_MAX_EVENT_LOOP_EXECUTE_TIME)
      .setWarningExceptionTimeUnit(VertxOptions.DEFAULT_MAX_EVENT_LOOP_EXECUTE_TIME_UNIT));
    vertx.deployVerticle(new ActorHost(config)).onFailure(err -> exit(EXIT_START_FAILED));
  }

  /** The first line of standard input, where the agent writes the cluster token (an empty line: none). */
  private static String readToken() throws java.io.IOException {
    java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream();
    for (int c = System.in.read(); c >= 0 && c != '\n'; c = System.in.read()) {
      if (line.size() >= 4096) {
        throw new java.io.IOException("the first line of standard input (the cluster token) is longer than 4096 bytes");
      }
      line.write(c);
    }
    return line.toString(java.nio.charset.StandardCharsets.UTF_8);
  }

  /**
   * An actor host logs to one place, its standard error, which the agent writes to the actor's log file.
   * Log4j's API does that with its simple logger, which starts in a fraction of log4j-core's time (log4j-core's
   * start-up is about 400 ms of an actor's start on two cores). Runs before any logger exists.
   */
  private static void configureLogging() {
    if ("log4j-core".equals(System.getProperty(LOGGING_PROPERTY)) || System.getProperty("log4j2.loggerContextFactory") != null) {
      return;
    }
    System.setProperty("log4j2.loggerContextFactory", "org.apache.logging.log4j.simple.SimpleLoggerContextFactory");
    setIfAbsent("org.apache.logging.log4j.simplelog.level", "INFO");
    setIfAbsent("org.apache.logging.log4j.simplelog.showdatetime", "true");
    setIfAbsent("org.apache.logging.log4j.simplelog.dateTimeFormat", "HH:mm:ss.SSS");
  }

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }

  /** Exits the process without waiting on the calling thread (often an event loop). */
  static void exit(int status) {
    Thread exiter = new Thread(() -> System.exit(status), "spoke-actor-exit");
    exiter.setDaemon(false);
    exiter.start();
  }
}
