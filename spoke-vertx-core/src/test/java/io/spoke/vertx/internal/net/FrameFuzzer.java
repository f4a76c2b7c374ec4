// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import com.google.flatbuffers.FlatBufferBuilder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.FrameDecoder;
import io.spoke.vertx.protocol.FrameEncoder;
import io.spoke.vertx.protocol.Messages;
import io.spoke.vertx.protocol.ProtocolVersion;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Challenge;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.spoke.vertx.protocol.fb.Hello;
import io.vertx.core.buffer.Buffer;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Throws random and mutated frames at a Spoke listener over real loopback sockets, seeded, within a time
 * budget: most are valid frames with a few header bytes changed (a FlatBuffers header has no verifier, so these
 * reach the handlers' field reads), some truncated, some with garbage payloads, some random headers, a few that
 * break the framing itself. With {@code authenticate}, every connection first proves the token and is welcomed,
 * so the frames reach the message handlers, and each frame is followed by a valid probe request whose answer
 * proves the server read the frame and still serves the connection; without, each frame is the hello of a
 * connection of its own, and the server's answer (or its closing the connection) proves it was read. Only frames
 * the server is known to have read are counted. When the server closes a connection (as it should on a frame
 * it cannot read), the fuzzer opens another.
 */
public final class FrameFuzzer {

  /** What a run did. */
  public static final class Report {
    public long frames;
    public long connections;
    public long elapsedMs;

    @Override
    public String toString() {
      return frames + " frames over " + connections + " connections in " + elapsedMs + " ms";
    }
  }

  private final InetSocketAddress address;
  private final ClusterAuth auth;
  private final boolean authenticate;
  private final byte role;
  private final String name;
  private final String target;
  private final Random random;
  private byte probeType = Body.NONE;
  private Buffer probePayload;
  private BodyWriter probeBody;
  private long probeId = 1L << 40;

  public FrameFuzzer(String host, int port, byte[] token, boolean authenticate, byte role, String name, String target, long seed) {
    this.address = new InetSocketAddress(host, port);
    this.auth = ClusterAuth.of(token);
    this.authenticate = authenticate;
    this.role = role;
    this.name = name;
    this.target = target;
    this.random = new Random(seed);
  }

  /** A whole request frame (length prefix included) whose body {@code body} builds, with a payload. */
  public static byte[] frame(byte bodyType, Buffer payload, BodyWriter body) {
    return request(7, bodyType, payload, body);
  }

  private static byte[] request(long id, byte bodyType, Buffer payload, BodyWriter body) {
    FrameEncoder encoder = new FrameEncoder(UnpooledByteBufAllocator.DEFAULT);
    FlatBufferBuilder b = encoder.builder();
    int offset = body.write(b);
    return bytes(encoder.encode(id, false, bodyType, offset, payload));
  }

  /** The bytes of an encoded frame, which is released. */
  private static byte[] bytes(ByteBuf buf) {
    byte[] bytes = new byte[buf.readableBytes()];
    buf.readBytes(bytes);
    buf.release();
    return bytes;
  }

  /** The valid request sent after each frame on authenticated connections, whose reply the fuzzer waits for. */
  public FrameFuzzer probe(byte bodyType, Buffer payload, BodyWriter body) {
    this.probeType = bodyType;
    this.probePayload = payload;
    this.probeBody = body;
    return this;
  }

  /** Writes a message body into the builder, returning its offset. */
  public interface BodyWriter {
    int write(FlatBufferBuilder b);
  }

  /**
   * Sends {@code frames} frames derived from {@code corpus} (whole frames, as {@link #frame} makes), or as many
   * as fit in {@code budgetMs}.
   */
  public Report run(List<byte[]> corpus, int frames, long budgetMs) throws IOException {
    if (authenticate && probeBody == null) {
      throw new IllegalStateException("authenticated fuzzing needs a probe request");
    }
    Report report = new Report();
    long start = System.nanoTime();
    long deadline = start + budgetMs * 1_000_000L;
    Peer peer = null;
    try {
      while (report.frames < frames && System.nanoTime() < deadline) {
        if (peer == null) {
          peer = open();
          report.connections++;
        }
        byte[] frame = mutate(corpus.get(random.nextInt(corpus.size())));
        boolean open;
        if (authenticate) {
          long id = probeId++;
          open = peer.write(frame) && peer.write(request(id, probeType, probePayload, probeBody)) && peer.awaitReply(id);
        } else {
          peer.write(frame);
          peer.awaitAnswer();
          open = false;
        }
        report.frames++;
        if (!open) {
          peer.close();
          peer = null;
        }
      }
    } finally {
      if (peer != null) {
        peer.close();
      }
    }
    report.elapsedMs = (System.nanoTime() - start) / 1_000_000;
    return report;
  }

  private byte[] mutate(byte[] base) {
    int kind = random.nextInt(100);
    if (kind < 5) {
      return base;
    }
    if (kind < 70) {
      // A few header bytes changed; the lengths kept, so the frame reaches its handler.
      byte[] f = base.clone();
      int headerLength = getInt(f, 4);
      for (int i = 1 + random.nextInt(4); i > 0; i--) {
        f[8 + random.nextInt(headerLength)] = (byte) random.nextInt(256);
      }
      return f;
    }
    if (kind < 80) {
      // Random header bytes of a plausible size.
      int headerLength = 8 + random.nextInt(160);
      byte[] f = new byte[8 + headerLength + random.nextInt(64)];
      random.nextBytes(f);
      putInt(f, 0, f.length - 4);
      putInt(f, 4, headerLength);
      return f;
    }
    if (kind < 88) {
      // Truncated: the header cut short, lengths made consistent.
      int length = 16 + random.nextInt(Math.max(1, base.length - 16));
      byte[] f = Arrays.copyOf(base, length);
      putInt(f, 0, length - 4);
      putInt(f, 4, Math.min(getInt(base, 4), length - 8));
      return f;
    }
    if (kind < 96) {
      // A garbage payload after a valid header.
      byte[] garbage = new byte[random.nextInt(512)];
      random.nextBytes(garbage);
      int headerEnd = 8 + getInt(base, 4);
      byte[] f = Arrays.copyOf(base, headerEnd + garbage.length);
      System.arraycopy(garbage, 0, f, headerEnd, garbage.length);
      putInt(f, 0, f.length - 4);
      return f;
    }
    // The framing broken: a header length that does not fit, or a huge frame length.
    byte[] f = base.clone();
    if (random.nextBoolean()) {
      putInt(f, 4, random.nextInt());
    } else {
      putInt(f, 0, 0x10000000 + random.nextInt(0x60000000));
    }
    return f;
  }

  /** A connection that has passed the handshake (with {@code authenticate}), for tests that play a misbehaving client. */
  public Socket openSocket() throws IOException {
    return open().socket;
  }

  private Peer open() throws IOException {
    Socket socket = new Socket();
    socket.setTcpNoDelay(true);
    if (address.getAddress().isLoopbackAddress() && address.getAddress().getAddress().length == 4) {
      // Tens of thousands of short connections: spread them over 127.0.0.0/8 so that the sockets the server closed
      // (TIME_WAIT, a minute each) do not exhaust one source address's ephemeral ports.
      socket.bind(new InetSocketAddress("127.0." + random.nextInt(256) + "." + (2 + random.nextInt(250)), 0));
    }
    socket.connect(address, 5_000);
    socket.setSoTimeout(5_000);
    DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(socket.getInputStream()));
    Peer peer = new Peer(socket, in);
    Frame challenge = readFrame(in);
    byte[] challengeNonce;
    try {
      if (challenge.bodyType() != Body.Challenge) {
        throw new IOException("the server opened with message type " + challenge.bodyType() + ", not a challenge: "
          + challenge.header().message());
      }
      challengeNonce = Messages.bytes(((Challenge) challenge.header().body(new Challenge())).nonceAsByteBuffer());
    } finally {
      challenge.release();
    }
    if (authenticate) {
      byte[] helloNonce = ClusterAuth.nonce();
      byte[] proof = auth.helloProof(challengeNonce, helloNonce);
      FrameEncoder encoder = new FrameEncoder(UnpooledByteBufAllocator.DEFAULT);
      FlatBufferBuilder b = encoder.builder();
      int nameOffset = b.createString(name);
      int targetOffset = target == null ? 0 : b.createString(target);
      int nonceOffset = Hello.createNonceVector(b, helloNonce);
      int proofOffset = proof == null ? 0 : Hello.createProofVector(b, proof);
      int body = Hello.createHello(b, ProtocolVersion.MAGIC, ProtocolVersion.VERSION, role, nameOffset, targetOffset, 0,
        ProtocolVersion.DEFAULT_MAX_FRAME_SIZE, 0, nonceOffset, proofOffset);
      peer.write(bytes(encoder.encode(1, false, ErrorCode.None, null, null, Body.Hello, body)));
      Frame welcome = readFrame(in);
      try {
        if (welcome.header().code() != ErrorCode.None || welcome.bodyType() != Body.Welcome) {
          throw new IOException("the server did not welcome the fuzzer: " + welcome.header().message());
        }
      } finally {
        welcome.release();
      }
    }
    return peer;
  }

  private static Frame readFrame(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 8 || length > (1 << 20)) {
      throw new IOException("unexpected frame length " + length + " from the server");
    }
    byte[] bytes = new byte[length + 4];
    putInt(bytes, 0, length);
    in.readFully(bytes, 4, length);
    return FrameDecoder.decodeWhole(Unpooled.wrappedBuffer(bytes));
  }

  private static int getInt(byte[] b, int at) {
    return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
  }

  private static void putInt(byte[] b, int at, int v) {
    b[at] = (byte) (v >>> 24);
    b[at + 1] = (byte) (v >>> 16);
    b[at + 2] = (byte) (v >>> 8);
    b[at + 3] = (byte) v;
  }

  /** One connection, read and written by the fuzzer's thread. */
  private static final class Peer {

    final Socket socket;
    final DataInputStream in;
    final OutputStream out;

    Peer(Socket socket, DataInputStream in) throws IOException {
      this.socket = socket;
      this.in = in;
      this.out = socket.getOutputStream();
    }

    /** Whether the bytes went out (false: the server had closed the connection). */
    boolean write(byte[] bytes) {
      try {
        out.write(bytes);
        return true;
      } catch (IOException e) {
        return false;
      }
    }

    /**
     * Reads until the reply to {@code id}: true when it came, false when the server closed the connection first.
     *
     * @throws IOException when the server neither answers nor closes within the read timeout: it is stuck
     */
    boolean awaitReply(long id) throws IOException {
      while (true) {
        Frame frame;
        try {
          frame = readFrame(in);
        } catch (java.net.SocketTimeoutException e) {
          throw new IOException("the server neither answered probe " + id + " nor closed the connection within 5 s", e);
        } catch (IOException e) {
          return false;
        }
        try {
          if (frame.isReply() && frame.id() == id) {
            return true;
          }
        } finally {
          frame.release();
        }
      }
    }

    /** Reads until the server answers the frame (a welcome or a refusal) or closes the connection. */
    void awaitAnswer() throws IOException {
      try {
        readFrame(in).release();
      } catch (java.net.SocketTimeoutException e) {
        throw new IOException("the server neither answered a hello nor closed the connection within 5 s", e);
      } catch (IOException e) {
        // closed: it read the frame and hung up
      }
    }

    /** Closes with a reset, leaving no TIME_WAIT behind: the fuzzer opens many connections. */
    void close() {
      try {
        socket.setSoLinger(true, 0);
        socket.close();
      } catch (IOException e) {
        // closed anyway
      }
    }
  }
}
