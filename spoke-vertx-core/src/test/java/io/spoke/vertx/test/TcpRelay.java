// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay on loopback between a peer and a server (an agent and its hub, say), which a test cuts: {@link #cut}
 * closes every connection through it at once, as a network fault would, and while {@link #refuse} holds, new
 * connections are closed as soon as they are accepted. Plain threads, so that it works whatever the processes on
 * either side do. Close it after the test.
 */
public final class TcpRelay implements AutoCloseable {

  private final ServerSocket server;
  private final String targetHost;
  private volatile int targetPort;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final AtomicInteger accepted = new AtomicInteger();
  private volatile boolean refusing;
  private volatile boolean closed;

  /** Listens on a free loopback port and relays to {@code targetHost:targetPort}. */
  public TcpRelay(String targetHost, int targetPort) throws IOException {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "tcp-relay-" + server.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** The port peers connect to. */
  public int port() {
    return server.getLocalPort();
  }

  /** Relays new connections to {@code port} on the same host from now on (a server started again elsewhere). */
  public void retarget(int port) {
    this.targetPort = port;
  }

  /** Connections accepted so far (refused ones included). */
  public int accepted() {
    return accepted.get();
  }

  /** Connections open through the relay now. */
  public int open() {
    return (int) sockets.stream().filter(s -> !s.isClosed()).count() / 2;
  }

  /** Closes every connection through the relay now (both sides see it end). */
  public void cut() {
    for (Socket socket : sockets) {
      closeQuietly(socket);
      sockets.remove(socket);
    }
  }

  /** While {@code refuse} holds, connections are closed as soon as they are accepted: the server is unreachable. */
  public void refuse(boolean refuse) {
    this.refusing = refuse;
  }

  private void accept() {
    while (!closed) {
      Socket peer;
      try {
        peer = server.accept();
      } catch (IOException e) {
        return;
      }
      accepted.incrementAndGet();
      if (refusing) {
        closeQuietly(peer);
        continue;
      }
      Socket target;
      try {
        target = new Socket(targetHost, targetPort);
        peer.setTcpNoDelay(true);
        target.setTcpNoDelay(true);
      } catch (IOException e) {
        closeQuietly(peer);
        continue;
      }
      sockets.add(peer);
      sockets.add(target);
      pump(peer, target);
      pump(target, peer);
    }
  }

  private void pump(Socket from, Socket to) {
    Thread thread = new Thread(() -> {
      byte[] buffer = new byte[64 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
          out.write(buffer, 0, n);
        }
      } catch (IOException e) {
        // cut, or closed by either side
      } finally {
        closeQuietly(from);
        closeQuietly(to);
        sockets.remove(from);
        sockets.remove(to);
      }
    }, "tcp-relay-pump");
    thread.setDaemon(true);
    thread.start();
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closed already
    }
  }

  @Override
  public void close() {
    closed = true;
    cut();
    try {
      server.close();
    } catch (IOException ignored) {
      // closed already
    }
  }

  /** Where it listens, for messages. */
  public InetSocketAddress address() {
    return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
  }
}
