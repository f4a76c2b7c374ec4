// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A JVM the harness starts on its own class path (baseline servers, start-up probes, n:n clients). Its standard
 * output is read line by line; stderr goes to the harness's. Every child is killed when the harness exits.
 */
final class Child implements AutoCloseable {

  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(p -> p.destroyForcibly()), "bench-children"));
  }

  private static final String EOF = "\u0000eof";

  final Process process;
  final long startedNanos;
  private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();

  private Child(Process process, long startedNanos) {
    this.process = process;
    this.startedNanos = startedNanos;
    LIVE.add(process);
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          lines.add(line);
        }
      } catch (IOException ignored) {
        // the process went away
      }
      lines.add(EOF);
    }, "bench-child-" + process.pid());
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts {@code java [jvmOptions] -cp <this class path> mainClass args}. */
  static Child java(List<String> jvmOptions, Class<?> mainClass, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass.getName());
    command.addAll(List.of(args));
    long start = System.nanoTime();
    Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    return new Child(process, start);
  }

  /** Waits for a line starting with {@code prefix}; fails if the process ends first or the time runs out. */
  String await(String prefix, long timeoutMs) throws InterruptedException {
    long deadline = System.nanoTime() + timeoutMs * 1_000_000L;
    while (true) {
      String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (line == null) {
        throw new IllegalStateException("process " + process.pid() + " printed no '" + prefix + "' line within " + timeoutMs + " ms");
      }
      if (line.equals(EOF)) {
        lines.add(EOF);
        throw new IllegalStateException("process " + process.pid() + " exited (status " + waitFor() + ") before printing '" + prefix + "'");
      }
      if (line.startsWith(prefix)) {
        return line;
      }
    }
  }

  /** Writes a line to the process's standard input. */
  void send(String line) throws IOException {
    process.getOutputStream().write((line + "\n").getBytes(StandardCharsets.UTF_8));
    process.getOutputStream().flush();
  }

  private int waitFor() throws InterruptedException {
    return process.waitFor(10, TimeUnit.SECONDS) ? process.exitValue() : -1;
  }

  /** Stops the process (SIGTERM, then SIGKILL after 5 s); an interrupt kills it at once and stays set. */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    LIVE.remove(process);
  }
}
