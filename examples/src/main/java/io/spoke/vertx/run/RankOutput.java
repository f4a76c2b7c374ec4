// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.run;

import io.spoke.vertx.client.ActorLog;
import io.spoke.vertx.client.ManagedProcess;
import io.spoke.vertx.client.SpokeClient;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Prints one rank's log as it grows, line by line with {@code [rank R] } in front, until the rank has exited. */
final class RankOutput implements Runnable {

  private final SpokeClient client;
  private final ManagedProcess process;
  private final String prefix;
  private final PrintStream out;
  private final StringBuilder partial = new StringBuilder();
  private boolean header = true;

  RankOutput(SpokeClient client, ManagedProcess process, int rank, PrintStream out) {
    this.client = client;
    this.process = process;
    this.prefix = "[rank " + rank + "] ";
    this.out = out;
  }

  @Override
  public void run() {
    long offset = 0;
    long failingSince = 0;
    while (true) {
      boolean exited = process.exit().isComplete();
      try {
        ActorLog chunk = client.readLog(process.id(), offset, RunMain.CHUNK).await(30, TimeUnit.SECONDS);
        failingSince = 0;
        offset = chunk.nextOffset();
        print(chunk.data().toString(StandardCharsets.UTF_8));
        if (offset < chunk.size()) {
          continue;
        }
        if (exited) {
          break;
        }
      } catch (Exception e) {
        // Between instances (a restart) its log may be out of reach for a moment; give up only once it has ended, or
        // after a minute.
        long now = System.nanoTime();
        failingSince = failingSince == 0 ? now : failingSince;
        if (exited || now - failingSince > TimeUnit.MINUTES.toNanos(1)) {
          out.println(prefix + "(its output could not be read further: " + e.getMessage() + ")");
          break;
        }
      }
      try {
        Thread.sleep(RunMain.POLL_MS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    if (partial.length() > 0) {
      line(partial.toString());
    }
    out.flush();
  }

  private void print(String text) {
    int start = 0;
    for (int nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      partial.append(text, start, nl);
      line(partial.toString());
      partial.setLength(0);
      start = nl + 1;
    }
    partial.append(text, start, text.length());
  }

  private void line(String line) {
    // The agent's header of the log ("# Spoke process ...", the rank, the GPUs) is not the rank's output.
    if (header && (line.startsWith("# Spoke process '") || line.startsWith("# ticket ") || line.startsWith("# GPUs: "))) {
      return;
    }
    header = false;
    synchronized (out) {
      out.println(prefix + line);
    }
  }
}
