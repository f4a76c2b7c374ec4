// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * How many actor-host JVMs start at once: at most {@link #LIMIT}, the machine's cores (at least 2) unless set. A JVM's start is
 * CPU-bound, so a hundred spawns at once would start a hundred JVMs that each take a hundred times as long, and all
 * become ready last; in turns, the first are ready at once and the rest follow at the machine's pace. The rest wait in
 * order. A slot is held from the launch until the JVM is up (its host asks for its spec; an actor's constructor may
 * then take as long as it likes), or its process exits. Confined to the agent's loop.
 */
final class ColdStarts {

  /** {@code -Dspoke.coldStartParallelism=N} on the agent's JVM: another limit. */
  static final int LIMIT = Math.max(1, Integer.getInteger("spoke.coldStartParallelism",
    Math.max(2, Runtime.getRuntime().availableProcessors())));

  /** A spawn waiting for its turn, and what starts it. */
  private record Waiting(ActorProcess proc, Runnable launch) {
  }

  private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
  private int running;

  /** Runs {@code launch} of {@code proc} now if a slot is free, else once one is. */
  void enter(ActorProcess proc, Runnable launch) {
    if (running < LIMIT) {
      running++;
      proc.coldSlot = true;
      launch.run();
    } else {
      waiting.add(new Waiting(proc, launch));
    }
  }

  /** {@code proc}'s start is over (ready, or its process gone): its slot goes to the next waiting. */
  void leave(ActorProcess proc) {
    if (!proc.coldSlot) {
      return;
    }
    proc.coldSlot = false;
    running--;
    Waiting next = waiting.poll();
    if (next != null) {
      enter(next.proc, next.launch);
    }
  }

  /** Takes {@code proc} out of the queue: whether it was waiting there (its JVM never started). */
  boolean cancel(ActorProcess proc) {
    return waiting.removeIf(w -> w.proc == proc);
  }

  /** Every spawn still waiting, taken out of the queue (the agent stops). */
  List<ActorProcess> drain() {
    List<ActorProcess> all = new ArrayList<>();
    waiting.forEach(w -> all.add(w.proc));
    waiting.clear();
    return all;
  }

  int waiting() {
    return waiting.size();
  }
}
