// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.rdma;

import io.netty.buffer.ByteBuf;
import io.spoke.vertx.RdmaException;
import io.spoke.vertx.rdma.RegisteredMemory.Segment;
import io.spoke.vertx.rdma.impl.RegisteredByteBuf;
import io.spoke.vertx.rdma.impl.TaggedReceive;
import io.spoke.vertx.rdma.impl.UcsStatus;
import io.spoke.vertx.rdma.impl.UcxRdmaProvider;
import io.spoke.vertx.rdma.impl.UcxRuntime;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.buffer.BufferInternal;
import java.nio.ByteBuffer;
import java.util.function.Function;
import org.openucx.jucx.UcxCallback;
import org.openucx.jucx.ucp.UcpRequest;
import org.openucx.jucx.ucp.UcpTagMessage;

/**
 * The UCX transport for applications: endpoints whose operations complete Vert.x {@link Future}s, and
 * registered memory to send from and receive into without copies. One per process ({@link #start}); Spoke's
 * own client-to-actor calls use the same runtime ({@code SpokeClient.initRdma}).
 * <p>
 * Buffers: {@link #buffer(int)} gives a Vert.x {@link Buffer} in registered memory. Passed to
 * {@link RdmaEndpoint#send} or {@link RdmaEndpoint#put}, it goes out in place; any other buffer is copied
 * once into a pooled registered segment, which returns to the pool when the operation's future completes,
 * whether it succeeded or not. Received data is handed to a reader function as a view of registered memory
 * and the segment returns to the pool when the reader returns, so nothing can leak.
 * <p>
 * Completions run on the Vert.x context that started the operation (a new event-loop context when called
 * from elsewhere).
 */
public final class Rdma {

  private final Vertx vertx;
  private final UcxRuntime ucx;

  private Rdma(Vertx vertx, UcxRuntime ucx) {
    this.vertx = vertx;
    this.ucx = ucx;
  }

  /**
   * This process's UCX transport, started on first use off the event loop. Fails with
   * {@link io.spoke.vertx.RdmaUnavailableException} when UCX cannot be loaded, saying what to install.
   */
  public static Future<Rdma> start(Vertx vertx) {
    ContextInternal context = ((io.vertx.core.internal.VertxInternal) vertx).getOrCreateContext();
    return context.executeBlocking(() -> new Rdma(vertx, (UcxRuntime) new UcxRdmaProvider().start(context.nettyEventLoop())), false);
  }

  /** This process's worker address: give it to a peer, which {@link #connect(byte[]) connects} to it. */
  public byte[] workerAddress() {
    return ucx.workerAddress();
  }

  /**
   * Whether this process progresses UCX on its event loop (Netty's epoll transport, with no thread hop), or on a
   * progress thread of its own (NIO, or {@code -Dspoke.rdma.eventLoop=false}, or busy polling).
   */
  public boolean progressedOnEventLoop() {
    return ucx.progressedOnEventLoop();
  }

  /** The registered memory pool (sizes and segments in use, for monitoring). */
  public RegisteredMemory memory() {
    return ucx.memory();
  }

  /** A buffer of {@code capacity} writable bytes in registered memory; give it back with {@link #release}. */
  public Buffer buffer(int capacity) {
    return BufferInternal.buffer(ucx.memory().buffer(capacity));
  }

  /** Returns a buffer from {@link #buffer(int)} to the pool; it must not be used afterwards. */
  public void release(Buffer buffer) {
    RegisteredByteBuf registered = RegisteredByteBuf.registered(((BufferInternal) buffer).getByteBuf());
    if (registered == null) {
      throw new IllegalArgumentException("not a buffer from Rdma.buffer()");
    }
    registered.release();
  }

  /**
   * Registered memory that peers may read ({@code get}) and write ({@code put}) directly: give them
   * {@link RemoteRegion#address()} and {@link RemoteRegion#packedKey()}.
   */
  public RemoteRegion region(int size) {
    Segment segment = ucx.memory().take(size);
    ByteBuffer key = segment.registration().getRemoteKeyBuffer();
    byte[] packed = new byte[key.remaining()];
    key.get(packed);
    return new RemoteRegion(ucx.memory(), segment, size, packed);
  }

  /** Opens an endpoint to the worker at {@code workerAddress} (peer failures are reported, not fatal). */
  public Future<RdmaEndpoint> connect(byte[] workerAddress) {
    ContextInternal context = context();
    ByteBuffer address;
    try {
      address = ucx.peerAddress(workerAddress, "the peer");
    } catch (RdmaException refused) {
      return context.failedFuture(refused);
    }
    Promise<RdmaEndpoint> promise = context.promise();
    RdmaEndpoint endpoint = new RdmaEndpoint(this, ucx);
    ucx.execute(() -> {
      try {
        endpoint.opened(ucx.newEndpoint(address, (ep, status, message) -> endpoint.failed(status, message), null));
        promise.complete(endpoint);
      } catch (RuntimeException e) {
        promise.fail(UcsStatus.failure(UcsStatus.status(e), "cannot open a UCX endpoint: " + e.getMessage()));
      }
    });
    return promise.future();
  }

  /**
   * Receives the next message sent with {@code tag} (by any endpoint's {@link RdmaEndpoint#send}), of at
   * most {@code maxLength} bytes, straight into registered memory, and completes with what {@code reader}
   * makes of it; the buffer the reader sees is a view valid only during the call.
   */
  public <T> Future<T> receive(long tag, int maxLength, Function<Buffer, T> reader) {
    ContextInternal context = context();
    Promise<T> promise = context.promise();
    ucx.receive(new TaggedReceive() {
      @Override
      public long tag() {
        return tag;
      }

      @Override
      public void matched(UcpTagMessage message) {
        long length = message.getRecvLength();
        // A message larger than asked for is still received (UCX needs that), then refused.
        Segment segment = ucx.memory().take(length);
        try {
          ucx.worker().recvTaggedMessageNonBlocking(segment.dataAddress(), length, message, new UcxCallback() {
            @Override
            public void onSuccess(UcpRequest request) {
              if (length > maxLength) {
                ucx.memory().recycle(segment);
                promise.tryFail(UcsStatus.failure(org.openucx.jucx.ucs.UcsConstants.STATUS.UCS_ERR_MESSAGE_TRUNCATED,
                  "a message of " + length + " bytes with tag " + tag + " is larger than the " + maxLength + " bytes asked for"));
                return;
              }
              context.execute(() -> read(promise, segment, (int) length, reader));
            }

            @Override
            public void onError(int status, String text) {
              ucx.memory().recycle(segment);
              promise.tryFail(UcsStatus.failure(status, "receiving tag " + tag + " failed: " + text));
            }
          }, UcxRuntime.HOST_PARAMS);
        } catch (RuntimeException e) {
          ucx.memory().recycle(segment);
          promise.tryFail(UcsStatus.failure(UcsStatus.status(e), "receiving tag " + tag + " failed: " + e.getMessage()));
        }
      }
    });
    return promise.future();
  }

  /** Hands {@code length} received bytes of {@code segment} to {@code reader}, then returns the segment. */
  <T> void read(Promise<T> promise, Segment segment, int length, Function<Buffer, T> reader) {
    ByteBuf view = ucx.memory().wrapReceived(segment, length);
    try {
      promise.tryComplete(reader.apply(BufferInternal.buffer(view)));
    } catch (RuntimeException e) {
      promise.tryFail(e);
    } finally {
      view.release();
    }
  }

  ContextInternal context() {
    ContextInternal current = ContextInternal.current();
    return current != null && current.owner() == vertx ? current : ((io.vertx.core.internal.VertxInternal) vertx).getOrCreateContext();
  }

  /** Memory a peer may access remotely; {@link #release()} returns it to the pool. */
  public static final class RemoteRegion {

    private final RegisteredMemory memory;
    private final Segment segment;
    private final int size;
    private final byte[] packedKey;
    private boolean released;

    RemoteRegion(RegisteredMemory memory, Segment segment, int size, byte[] packedKey) {
      this.memory = memory;
      this.segment = segment;
      this.size = size;
      this.packedKey = packedKey;
    }

    /** The address a peer puts to or gets from. */
    public long address() {
      return segment.dataAddress();
    }

    public int size() {
      return size;
    }

    /** The remote key a peer unpacks ({@link RdmaEndpoint#unpackKey}) to access this region. */
    public byte[] packedKey() {
      return packedKey.clone();
    }

    /** The region's bytes, read and written in place (a view: valid until {@link #release()}). */
    public Buffer buffer() {
      // A plain wrapper: releasing it does not free or recycle anything; the region owns the segment.
      return BufferInternal.buffer(io.netty.buffer.Unpooled.wrappedBuffer(segment.dataView(size).slice()));
    }

    public synchronized void release() {
      if (!released) {
        released = true;
        memory.recycle(segment);
      }
    }
  }
}
