// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.flatbuffers.FlatBufferBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.spoke.vertx.AuthenticationException;
import io.spoke.vertx.FrameTooLargeException;
import io.spoke.vertx.SpokeTimeoutException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.VersionMismatchException;
import io.spoke.vertx.protocol.ErrorCodes;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.FrameDecoder;
import io.spoke.vertx.protocol.FrameEncoder;
import io.spoke.vertx.protocol.ProtocolVersion;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.spoke.vertx.protocol.fb.Hello;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** One Spoke connection over real sockets: handshake, multiplexing, timeouts, and what bad peers get. */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class ConnectionIT {

  private static final int SERVER_MAX_FRAME = ProtocolVersion.MIN_MAX_FRAME_SIZE;

  private Vertx vertx;
  private Context context;
  private NetClient netClient;
  private int port;
  private final List<Frame> held = new ArrayList<>();
  private final List<Connection> accepted = new ArrayList<>();

  /** The server's handler: echoes call payloads; "hold" holds requests and answers them in reverse order on "flush". */
  private void serve(Connection connection, Frame frame) {
    String text = frame.payload().toString();
    switch (text) {
      case "silence":
        frame.release();
        return;
      case "hang up":
        frame.release();
        connection.close();
        return;
      case "hold":
        held.add(frame);
        return;
      case "flush":
        for (int i = held.size() - 1; i >= 0; i--) {
          Frame h = held.get(i);
          connection.reply(h.id(), Serializers.STRING, "answer to " + h.id());
          h.release();
        }
        held.clear();
        connection.reply(frame.id(), Serializers.STRING, "flushed");
        frame.release();
        return;
      default:
        connection.reply(frame.id(), frame.payload());
        frame.release();
    }
  }

  @BeforeEach
  void startServer(Vertx vertx) throws Exception {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    NetServer server = vertx.createNetServer();
    server.connectHandler(so -> Connection.accept(so, SERVER_MAX_FRAME, "test-server", ClusterAuth.NONE, (connection, hello) -> {
      accepted.add(connection);
      return Future.succeededFuture(this::serve);
    }));
    port = server.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS).actualPort();
    netClient = vertx.createNetClient();
  }

  /** Runs on the one context of this test's connections: they are confined to their event loop. */
  private <T> T onContext(Supplier<Future<T>> action) throws Exception {
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(promise));
    return promise.future().await(20, TimeUnit.SECONDS);
  }

  private Connection connect() throws Exception {
    return onContext(() -> Connection.connect(netClient, SocketAddress.inetSocketAddress(port, "127.0.0.1"),
      ClientHello.of(Role.Client, "test", ClusterAuth.NONE).withTimeout(5_000)));
  }

  private Future<String> call(Connection connection, String text, long timeoutMs) {
    return connection.call(1, text, Serializers.STRING, Serializers.STRING, timeoutMs);
  }

  @Test
  void handshakesAndEchoes() throws Exception {
    Connection connection = connect();
    assertThat(connection.isEstablished()).isTrue();
    assertThat(connection.peerMaxFrameSize()).isEqualTo(SERVER_MAX_FRAME);
    assertThat(onContext(() -> call(connection, "ping", 5_000))).isEqualTo("ping");
  }

  @Test
  void matchesRepliesToRequestsWhateverTheirOrder() throws Exception {
    Connection connection = connect();
    List<Future<String>> held = onContext(() -> {
      List<Future<String>> calls = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        calls.add(call(connection, "hold", 5_000));
      }
      return Future.succeededFuture(calls);
    });
    assertThat(onContext(() -> call(connection, "flush", 5_000))).isEqualTo("flushed");
    for (Future<String> f : held) {
      assertThat(f.await(5, TimeUnit.SECONDS)).startsWith("answer to ");
    }
    assertThat(held.stream().map(Future::result).distinct().count()).isEqualTo(5);
  }

  @Test
  void requestsWithoutAnswerTimeOut() throws Exception {
    Connection connection = connect();
    long start = System.nanoTime();
    assertThatThrownBy(() -> onContext(() -> call(connection, "silence", 200)))
      .isInstanceOf(SpokeTimeoutException.class)
      .hasMessageContaining("got no answer within its timeout");
    assertThat((System.nanoTime() - start) / 1_000_000).isBetween(150L, 2_000L);
    assertThat(onContext(() -> call(connection, "still usable", 5_000))).isEqualTo("still usable");
  }

  @Test
  void pendingRequestsFailWhenThePeerHangsUp() throws Exception {
    Connection connection = connect();
    Future<String> first = onContext(() -> Future.succeededFuture(call(connection, "silence", 30_000)));
    assertThatThrownBy(() -> onContext(() -> call(connection, "hang up", 30_000))).isInstanceOf(UnavailableException.class)
      .hasMessageContaining("closed");
    assertThatThrownBy(() -> first.await(5, TimeUnit.SECONDS)).isInstanceOf(UnavailableException.class);
    assertThat(connection.isClosed()).isTrue();
  }

  @Test
  void oversizedRequestsFailBeforeAnythingIsSent() throws Exception {
    Connection connection = connect();
    Buffer big = Buffer.buffer(new byte[SERVER_MAX_FRAME]);
    assertThatThrownBy(() -> onContext(() -> connection.call(1, big, Serializers.BUFFER, Serializers.BUFFER, 5_000)))
      .isInstanceOf(FrameTooLargeException.class);
    assertThat(onContext(() -> call(connection, "after", 5_000))).isEqualTo("after");
  }

  @Test
  void refusesAPeerOfAnotherProtocolVersion() throws Exception {
    RawPeer peer = RawPeer.connect(vertx, port);
    FrameEncoder encoder = new FrameEncoder(ByteBufAllocator.DEFAULT);
    FlatBufferBuilder b = encoder.builder();
    int body = Hello.createHello(b, ProtocolVersion.MAGIC, 99, Role.Client, b.createString("future"), 0, 0, 1 << 20, 0, 0, 0);
    peer.send(encoder.encode(1, false, Body.Hello, body, null));
    Frame reply = peer.nextFrame();
    assertThat(reply.isReply()).isTrue();
    assertThat(reply.header().code()).isEqualTo(ErrorCode.VersionMismatch);
    assertThat(ErrorCodes.toException(reply.header().code(), reply.header().message(), null, null))
      .isInstanceOf(VersionMismatchException.class)
      .hasMessageContaining("peer speaks Spoke protocol version 99")
      .hasMessageContaining("speaks version " + ProtocolVersion.VERSION);
    reply.release();
    peer.awaitClosed();
  }

  @Test
  void garbageClosesOnlyThatConnection() throws Exception {
    Connection good = connect();
    RawPeer bad = RawPeer.connect(vertx, port);
    bad.send(Unpooled.wrappedBuffer("GET / HTTP/1.1\r\nHost: spoke\r\n\r\n".getBytes()));
    Frame error = bad.nextFrame();
    assertThat(error.header().code()).isEqualTo(ErrorCode.FrameTooLarge);
    error.release();
    bad.awaitClosed();
    assertThat(onContext(() -> call(good, "still served", 5_000))).isEqualTo("still served");
  }

  @Test
  void aFrameLargerThanTheServerAcceptsIsRefusedBeforeItArrives() throws Exception {
    Connection good = connect();
    RawPeer bad = RawPeer.connect(vertx, port);
    bad.send(Unpooled.buffer().writeInt(SERVER_MAX_FRAME * 4));
    Frame error = bad.nextFrame();
    assertThat(error.header().code()).isEqualTo(ErrorCode.FrameTooLarge);
    assertThat(error.header().message()).contains("exceeds the maximum frame size of " + SERVER_MAX_FRAME);
    error.release();
    bad.awaitClosed();
    assertThat(onContext(() -> call(good, "fine", 5_000))).isEqualTo("fine");
  }

  @Test
  void requestsBeforeTheHandshakeAreRefused() throws Exception {
    RawPeer bad = RawPeer.connect(vertx, port);
    FrameEncoder encoder = new FrameEncoder(ByteBufAllocator.DEFAULT);
    FlatBufferBuilder b = encoder.builder();
    int body = io.spoke.vertx.protocol.fb.Call.createCall(b, 1, false, 0, 0);
    bad.send(encoder.encode(5, false, Body.Call, body, Buffer.buffer("sneaky")));
    Frame error = bad.nextFrame();
    assertThat(error.header().code()).isEqualTo(ErrorCode.Protocol);
    assertThat(error.header().message()).contains("expected a Hello");
    error.release();
    bad.awaitClosed();
  }

  @Test
  void aReplyInsteadOfAHelloIsRefusedAtOnce() throws Exception {
    RawPeer bad = RawPeer.connect(vertx, port);
    FrameEncoder encoder = new FrameEncoder(ByteBufAllocator.DEFAULT);
    FlatBufferBuilder b = encoder.builder();
    int body = io.spoke.vertx.protocol.fb.Resolve.createResolve(b, b.createString("x"));
    bad.send(encoder.encode(5, true, Body.Resolve, body, null));
    Frame error = bad.nextFrame();
    assertThat(error.header().code()).isEqualTo(ErrorCode.Protocol);
    assertThat(error.header().message()).contains("expected a Hello");
    error.release();
    bad.awaitClosed();
  }

  // ------------------------------------------------------------------ the cluster token

  private static final byte[] TOKEN = "test-cluster-token-0123456789".getBytes(java.nio.charset.StandardCharsets.UTF_8);

  /** A server that requires {@code auth}'s token, on a port of its own. */
  private int guardedServer(ClusterAuth auth) throws Exception {
    NetServer server = vertx.createNetServer();
    server.connectHandler(so -> Connection.accept(so, SERVER_MAX_FRAME, "guarded", auth, (connection, hello) -> Future.succeededFuture(this::serve)));
    return server.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS).actualPort();
  }

  private Connection connect(int port, ClusterAuth auth) throws Exception {
    return onContext(() -> Connection.connect(netClient, SocketAddress.inetSocketAddress(port, "127.0.0.1"),
      ClientHello.of(Role.Client, "test", auth).withTimeout(5_000)));
  }

  @Test
  void aServerWithATokenServesOnlyPeersThatProveIt() throws Exception {
    int guarded = guardedServer(ClusterAuth.of(TOKEN));
    Connection ok = connect(guarded, ClusterAuth.of(TOKEN));
    assertThat(onContext(() -> call(ok, "proven", 5_000))).isEqualTo("proven");
    assertThatThrownBy(() -> connect(guarded, ClusterAuth.NONE))
      .isInstanceOf(AuthenticationException.class)
      .hasMessageContaining("requires the cluster token, and this process has none: set SPOKE_TOKEN");
    assertThatThrownBy(() -> connect(guarded, ClusterAuth.of("another-token-0123456789".getBytes())))
      .isInstanceOf(AuthenticationException.class)
      .hasMessageContaining("guarded refused the connection: the cluster token differs");
    assertThat(onContext(() -> call(ok, "still proven", 5_000))).isEqualTo("still proven");
  }

  @Test
  void aPeerThatSkipsTheProofGetsARefusalAndNothingElse() throws Exception {
    int guarded = guardedServer(ClusterAuth.of(TOKEN));
    RawPeer peer = RawPeer.connect(vertx, guarded);
    assertThat(peer.tokenRequired).isTrue();
    FrameEncoder encoder = new FrameEncoder(ByteBufAllocator.DEFAULT);
    FlatBufferBuilder b = encoder.builder();
    int nonce = Hello.createNonceVector(b, new byte[ClusterAuth.NONCE_LENGTH]);
    int body = Hello.createHello(b, ProtocolVersion.MAGIC, ProtocolVersion.VERSION, Role.Client, b.createString("sneaky"), 0, 0, 1 << 20,
      0, nonce, 0);
    peer.send(encoder.encode(1, false, Body.Hello, body, null));
    Frame reply = peer.nextFrame();
    assertThat(reply.header().code()).isEqualTo(ErrorCode.Authentication);
    assertThat(reply.bodyType()).isEqualTo(Body.NONE);
    reply.release();
    peer.awaitClosed();
  }

  @Test
  void aClientWithATokenRefusesAServerThatCannotProveIt() {
    assertThatThrownBy(() -> connect(port, ClusterAuth.of(TOKEN)))
      .isInstanceOf(AuthenticationException.class)
      .hasMessageContaining("did not prove it holds the cluster token");
  }

  @Test
  void theTokenNeverCrossesTheWireAndNoProofIsSentTwice() throws Exception {
    // A fake server: it challenges, then records what comes back.
    java.io.ByteArrayOutputStream received = new java.io.ByteArrayOutputStream();
    NetServer fake = vertx.createNetServer();
    fake.connectHandler(so -> {
      FrameEncoder encoder = new FrameEncoder(ByteBufAllocator.DEFAULT);
      FlatBufferBuilder b = encoder.builder();
      int nonce = io.spoke.vertx.protocol.fb.Challenge.createNonceVector(b, ClusterAuth.nonce());
      int body = io.spoke.vertx.protocol.fb.Challenge.createChallenge(b, ProtocolVersion.MAGIC, ProtocolVersion.VERSION, nonce, true);
      so.write(BufferInternal.buffer(encoder.encode(0, false, Body.Challenge, body, null)));
      so.handler(data -> {
        synchronized (received) {
          received.writeBytes(data.getBytes());
        }
      });
    });
    int fakePort = fake.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS).actualPort();
    for (int i = 0; i < 2; i++) {
      Promise<Connection> attempt = Promise.promise();
      context.runOnContext(v -> Connection.connect(netClient, SocketAddress.inetSocketAddress(fakePort, "127.0.0.1"),
      ClientHello.of(Role.Client, "test", ClusterAuth.of(TOKEN)).withTimeout(300)).onComplete(attempt));
      assertThatThrownBy(() -> attempt.future().await(5, TimeUnit.SECONDS)).isInstanceOf(SpokeTimeoutException.class);
    }
    byte[] bytes;
    synchronized (received) {
      bytes = received.toByteArray();
    }
    EmbeddedChannel decoder = new EmbeddedChannel(new FrameDecoder(ProtocolVersion.DEFAULT_MAX_FRAME_SIZE));
    decoder.writeInbound(Unpooled.wrappedBuffer(bytes));
    List<String> proofs = new ArrayList<>();
    for (Object message; (message = decoder.readInbound()) != null; ) {
      Frame frame = (Frame) message;
      Hello hello = (Hello) frame.header().body(new Hello());
      assertThat(hello.proofLength()).isEqualTo(32);
      proofs.add(java.util.HexFormat.of().formatHex(io.spoke.vertx.protocol.Messages.bytes(hello.proofAsByteBuffer())));
      frame.release();
    }
    assertThat(proofs).hasSize(2).doesNotHaveDuplicates();
    String wire = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
    assertThat(wire).doesNotContain(new String(TOKEN, java.nio.charset.StandardCharsets.ISO_8859_1));
  }

  @Test
  void repeatedFailuresTurnTheAddressAwayForAWhile() throws Exception {
    ClusterAuth serverAuth;
    System.setProperty("spoke.auth.blockMs", "1500");
    try {
      serverAuth = ClusterAuth.of(TOKEN);
    } finally {
      System.clearProperty("spoke.auth.blockMs");
    }
    int guarded = guardedServer(serverAuth);
    ClusterAuth wrong = ClusterAuth.of("not-the-token-0123456789".getBytes());
    for (int i = 0; i < ClusterAuth.MAX_FAILURES; i++) {
      assertThatThrownBy(() -> connect(guarded, wrong)).hasMessageContaining("the cluster token differs");
    }
    long blockedAt = System.nanoTime();
    assertThatThrownBy(() -> connect(guarded, ClusterAuth.of(TOKEN)))
      .isInstanceOf(AuthenticationException.class)
      .hasMessageContaining("turns 127.0.0.1 away for another 2 s after repeated failed authentications");
    Thread.sleep(Math.max(0, 1600 - (System.nanoTime() - blockedAt) / 1_000_000));
    Connection ok = connect(guarded, ClusterAuth.of(TOKEN));
    assertThat(onContext(() -> call(ok, "let in again", 5_000))).isEqualTo("let in again");
  }

  /** A socket that speaks raw bytes, to play a bad peer. */
  static final class RawPeer {

    private final NetSocket socket;
    private final EmbeddedChannel decoder = new EmbeddedChannel(new FrameDecoder(ProtocolVersion.DEFAULT_MAX_FRAME_SIZE));
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final java.util.concurrent.LinkedBlockingQueue<Frame> frames = new java.util.concurrent.LinkedBlockingQueue<>();
    boolean tokenRequired;
    NetClient client;

    private RawPeer(NetSocket socket) {
      this.socket = socket;
      socket.handler(data -> {
        decoder.writeInbound(Unpooled.copiedBuffer(((BufferInternal) data).getByteBuf()));
        Object message;
        while ((message = decoder.readInbound()) != null) {
          if (message instanceof Frame) {
            frames.add((Frame) message);
          }
        }
      });
      socket.closeHandler(v -> closed.complete(null));
    }

    /** Connects and reads the server's challenge: {@link #nextFrame()} gives what follows it. */
    static RawPeer connect(Vertx vertx, int port) throws Exception {
      // Handlers are set on the event loop as the socket opens (connecting from a context, so that the mapping
      // runs there, not on this thread once the future is already complete): the challenge may follow at once.
      NetClient client = vertx.createNetClient();
      Promise<RawPeer> opened = Promise.promise();
      vertx.getOrCreateContext().runOnContext(v -> client.connect(port, "127.0.0.1").map(RawPeer::new).onComplete(opened));
      RawPeer peer = opened.future().await(5, TimeUnit.SECONDS);
      // Held: Vert.x closes a client's connections when the client is garbage-collected.
      peer.client = client;
      Frame challenge = peer.nextFrame();
      assertThat(challenge.bodyType()).as("the server's first frame").isEqualTo(Body.Challenge);
      peer.tokenRequired = ((io.spoke.vertx.protocol.fb.Challenge) challenge.header().body(new io.spoke.vertx.protocol.fb.Challenge()))
        .tokenRequired();
      challenge.release();
      return peer;
    }

    void send(ByteBuf bytes) throws Exception {
      socket.write(BufferInternal.buffer(bytes)).await(5, TimeUnit.SECONDS);
    }

    Frame nextFrame() throws InterruptedException {
      Frame frame = frames.poll(5, TimeUnit.SECONDS);
      assertThat(frame).as("a frame from the server").isNotNull();
      return frame;
    }

    void awaitClosed() throws Exception {
      closed.get(5, TimeUnit.SECONDS);
    }
  }
}
