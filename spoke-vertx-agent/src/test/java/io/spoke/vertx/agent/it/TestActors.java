// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import io.spoke.vertx.actor.Actor;
import io.spoke.vertx.actor.SpokeActor;
import io.spoke.vertx.serialization.Serializers;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;

/** Actors the integration tests spawn as real processes. */
public final class TestActors {

  public static final int ECHO = 1;
  public static final int HELLO = 2;
  public static final int FAIL = 3;
  public static final int SLOW = 4;
  public static final int ENV = 5;
  public static final int PUSH = 6;
  public static final int ARGS = 7;
  public static final int BLOCKING = 8;
  public static final int ADD = 9;
  public static final int PID = 10;
  public static final int CHILD = 11;
  public static final int SLOT = 12;
  public static final int SERVE_MASTER = 13;
  public static final int DIAL_MASTER = 14;
  /** A value of actorContext().env(), and the same variable as a child started with actorContext().processBuilder sees it. */
  public static final int CONTEXT_ENV = 15;
  public static final int CHILD_ENV = 16;
  /** Runs a shell command with a plain ProcessBuilder (not the actor context's) and returns its output. */
  public static final int SHELL = 17;
  /**
   * Blocks the actor's event loop for good (a liveness test); an id no fuzzed frame reaches by chance (FuzzIT mutates
   * the method ids of real calls, and a small id would hang the actor it fuzzes).
   */
  public static final int HANG = 0x4A4E4721;
  /** Prints its argument on a line of its own (to its log) and returns it. */
  public static final int SAY = 0x53415921;

  private TestActors() {
  }

  /** Echoes, greets, fails, sleeps, reports its environment, pushes. */
  @SpokeActor("Echo")
  public static class EchoActor extends Actor {

    private int calls;

    @Override
    protected void registerMethods() {
      registerMethod(ECHO, request -> request.buffer().copy());
      registerMethod(HELLO, request -> "Hello, " + request.readString() + "!");
      registerMethod(SAY, request -> {
        String line = request.readString();
        System.out.println(line);
        System.out.flush();
        return line;
      });
      registerMethod(FAIL, request -> {
        throw new IllegalStateException("failing on purpose: " + request.readString());
      });
      registerMethod(SLOW, request -> {
        Promise<String> promise = Promise.promise();
        vertx.setTimer(request.read(Serializers.LONG), t -> promise.complete("slept"));
        return promise.future();
      });
      registerMethod(ENV, request -> {
        String value = System.getenv(request.readString());
        return value == null ? "<unset>" : value;
      });
      registerMethod(CONTEXT_ENV, request -> actorContext().env().getOrDefault(request.readString(), "<unset>"));
      registerBlockingMethod(CHILD_ENV, request -> {
        String name = request.readString();
        Process child = actorContext().processBuilder("sh", "-c", "printf %s \"${" + name + "-<unset>}\"").redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        child.waitFor();
        return out;
      });
      registerMethod(PUSH, request -> {
        int count = request.read(Serializers.INT);
        for (int i = 0; i < count; i++) {
          actorContext().push(7, "token-" + i, Serializers.STRING);
        }
        return count;
      });
      registerMethod(ARGS, request -> actorContext().args().copy());
      registerBlockingMethod(BLOCKING, request -> {
        Thread.sleep(50);
        return Thread.currentThread().getName();
      });
      registerMethod(ADD, Serializers.LONG, Serializers.LONG, value -> Future.succeededFuture(value + (++calls)));
      registerMethod(PID, request -> ProcessHandle.current().pid());
      registerMethod(HANG, request -> {
        while (true) {
          try {
            Thread.sleep(1_000);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      });
      registerBlockingMethod(CHILD, request -> new ProcessBuilder("sleep", "600").start().pid());
      registerBlockingMethod(SHELL, request -> {
        Process shell = new ProcessBuilder("sh", "-c", request.readString()).redirectErrorStream(true).start();
        String out = new String(shell.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim();
        shell.waitFor();
        return out;
      });
      // A rendezvous the way torch.distributed's TCPStore does it: rank 0 listens on MASTER_PORT, the others dial
      // MASTER_ADDR:MASTER_PORT.
      registerBlockingMethod(SERVE_MASTER, request -> {
        try (java.net.ServerSocket server = new java.net.ServerSocket(Integer.parseInt(System.getenv("MASTER_PORT")))) {
          server.setSoTimeout(30_000);
          try (java.net.Socket peer = server.accept()) {
            peer.getOutputStream().write(("hello from rank " + System.getenv("RANK") + "\n").getBytes());
            return "served " + peer.getInetAddress().getHostAddress();
          }
        }
      });
      registerBlockingMethod(DIAL_MASTER, request -> {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
          try (java.net.Socket socket = new java.net.Socket()) {
            socket.connect(new java.net.InetSocketAddress(System.getenv("MASTER_ADDR"), Integer.parseInt(System.getenv("MASTER_PORT"))), 5_000);
            return new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream())).readLine();
          } catch (java.net.ConnectException e) {
            if (System.currentTimeMillis() > deadline) {
              throw e;
            }
            Thread.sleep(50);
          }
        }
      });
      registerMethod(SLOT, request -> {
        io.spoke.vertx.client.Slot slot = actorContext().slot();
        return slot == null ? "none" : slot.ticketId() + " " + slot.globalRank() + "/" + slot.worldSize() + " " + slot.localRank() + "/"
          + slot.localWorldSize() + " " + slot.gpuIds() + " " + slot.masterAddr() + ":" + slot.masterPort();
      });
    }
  }

  /** Never becomes ready: its start hook never completes. */
  @SpokeActor("NeverReady")
  public static class NeverReadyActor extends Actor {

    @Override
    protected void registerMethods() {
    }

    @Override
    protected Future<?> onStart() {
      return Promise.promise().future();
    }
  }

  /** Fails in its start hook. */
  @SpokeActor("FailsToStart")
  public static class FailsToStartActor extends Actor {

    @Override
    protected void registerMethods() {
    }

    @Override
    protected Future<?> onStart() {
      return Future.failedFuture(new IllegalStateException("no model weights at /nowhere"));
    }
  }

  /** Exits its process while starting. */
  @SpokeActor("ExitsAtStart")
  public static class ExitsAtStartActor extends Actor {

    @Override
    protected void registerMethods() {
      System.out.println("about to exit with status 42");
      System.out.flush();
      Runtime.getRuntime().halt(42);
    }
  }

  /** Returns a large buffer of the requested size. */
  public static Buffer pattern(int size) {
    byte[] bytes = new byte[size];
    for (int i = 0; i < size; i++) {
      bytes[i] = (byte) (i * 31 + 7);
    }
    return Buffer.buffer(bytes);
  }
}
