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

  public static void main(String[] args) {
    ActorHostConfig config;
    try {
      config = new ActorHostConfig(System.getenv());
    } catch (IllegalArgumentException e) {
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
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1)
      .setWarningExceptionTime(VertxOptions.DEFAULT_MAX_EVENT_LOOP_EXECUTE_TIME)
      .setWarningExceptionTimeUnit(VertxOptions.DEFAULT_MAX_EVENT_LOOP_EXECUTE_TIME_UNIT));
    vertx.deployVerticle(new ActorHost(config)).onFailure(err -> exit(EXIT_START_FAILED));
  }

  /** Exits the process without waiting on the calling thread (often an event loop). */
  static void exit(int status) {
    Thread exiter = new Thread(() -> System.exit(status), "spoke-actor-exit");
    exiter.setDaemon(false);
    exiter.start();
  }
}
