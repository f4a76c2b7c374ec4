// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.rdma;

import io.netty.buffer.ByteBuf;
import io.spoke.vertx.RdmaException;
import io.spoke.vertx.rdma.RegisteredMemory.Segment;
import io.spoke.vertx.rdma.impl.RegisteredByteBuf;
import io.spoke.vertx.rdma.impl.UcsStatus;
import io.spoke.vertx.rdma.impl.UcxRuntime;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.buffer.BufferInternal;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.openucx.jucx.UcxCallback;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpRemoteKey;
import org.openucx.jucx.ucp.UcpRequest;

/**
 * A UCX endpoint to one peer worker: tagged sends, one-sided {@code put} and {@code get} on the peer's
 * registered memory, flush and close, each a {@link Future} completed on the caller's context. Made by
 * {@link Rdma#connect}.
 * <p>
 * A peer that dies, or a transport error, fails the operations in flight and every later one with an
 * {@link RdmaException} carrying the UCX status (for instance {@code UCS_ERR_CONNECTION_RESET} or
 * {@code UCS_ERR_ENDPOINT_TIMEOUT}); the registered segments they used go back to the pool.
 */
public final class RdmaEndpoint {

  private final Rdma rdma;
  private final UcxRuntime ucx;
  // progress thread
  private UcpEndpoint endpoint;
  private final List<UcpRemoteKey> keys = new ArrayList<>();
  private volatile RdmaException failure;

  RdmaEndpoint(Rdma rdma, UcxRuntime ucx) {
    this.rdma = rdma;
    this.ucx = ucx;
  }

  void opened(UcpEndpoint endpoint) {
    this.endpoint = endpoint;
  }

  /** The endpoint's error handler, on the progress thread: later operations fail at once. */
  void failed(int status, String message) {
    if (failure == null) {
      failure = UcsStatus.failure(status, "UCX endpoint failed: " + message);
    }
    UcpEndpoint ep = endpoint;
    endpoint = null;
    if (ep != null) {
      // Queued: this runs inside the endpoint's error callback (see UcxRuntime.closeEndpoint).
      ucx.execute(() -> UcxRuntime.closeEndpoint(ep, true));
    }
  }

  /** A remote key the peer packed ({@link Rdma.RemoteRegion#packedKey()}), for {@link #put} and {@link #get}. */
  public Future<RemoteKey> unpackKey(byte[] packedKey) {
    ContextInternal context = rdma.context();
    Promise<RemoteKey> promise = context.promise();
    ByteBuffer key = ByteBuffer.allocateDirect(packedKey.length).put(packedKey).flip();
    ucx.execute(() -> {
      if (endpoint == null) {
        promise.fail(gone());
        return;
      }
      try {
        UcpRemoteKey unpacked = endpoint.unpackRemoteKey(key);
        keys.add(unpacked);
        promise.complete(new RemoteKey(unpacked));
      } catch (RuntimeException e) {
        promise.fail(UcsStatus.failure(UcsStatus.status(e), "cannot unpack the remote key: " + e.getMessage()));
      }
    });
    return promise.future();
  }

  /** Sends {@code data} with {@code tag}; the peer receives it with {@link Rdma#receive}. */
  public Future<Void> send(long tag, Buffer data) {
    Local local = local(data);
    return submit(local, "send of " + local.length + " bytes", (ep, callback) ->
      ep.sendTaggedNonBlocking(local.address, local.length, tag, callback, UcxRuntime.HOST_PARAMS));
  }

  /** Writes {@code data} into the peer's registered memory at {@code remoteAddress}. */
  public Future<Void> put(Buffer data, long remoteAddress, RemoteKey key) {
    Local local = local(data);
    return submit(local, "put of " + local.length + " bytes", (ep, callback) ->
      ep.putNonBlocking(local.address, local.length, remoteAddress, key.key, callback, UcxRuntime.HOST_PARAMS));
  }

  /**
   * Reads {@code length} bytes of the peer's registered memory at {@code remoteAddress} straight into a
   * registered segment, and completes with what {@code reader} makes of them (the view is valid during the
   * call only).
   */
  public <T> Future<T> get(long remoteAddress, RemoteKey key, int length, Function<Buffer, T> reader) {
    Segment segment = ucx.memory().take(length);
    Local local = new Local(segment.dataAddress(), length, null, segment);
    Promise<T> result = rdma.context().promise();
    submitKeeping(local, "get of " + length + " bytes", (ep, callback) ->
      ep.getNonBlocking(remoteAddress, key.key, segment.dataAddress(), length, callback, UcxRuntime.HOST_PARAMS))
      .onComplete(ar -> {
        if (ar.succeeded()) {
          rdma.read(result, segment, length, reader);
        } else {
          ucx.memory().recycle(segment);
          result.fail(ar.cause());
        }
      });
    return result.future();
  }

  /** Completes when every operation started so far is complete at the peer too. */
  public Future<Void> flush() {
    return submit(null, "flush", (ep, callback) -> ep.flushNonBlocking(callback));
  }

  /** Flushes and closes the endpoint; later operations fail. */
  public Future<Void> close() {
    ContextInternal context = rdma.context();
    Promise<Void> promise = context.promise();
    ucx.execute(() -> {
      UcpEndpoint ep = endpoint;
      endpoint = null;
      if (failure == null) {
        failure = UcsStatus.cancelled("the endpoint is closed");
      }
      for (UcpRemoteKey key : keys) {
        key.close();
      }
      keys.clear();
      if (ep != null) {
        UcxRuntime.closeEndpoint(ep, false);
      }
      promise.complete();
    });
    return promise.future();
  }

  private RdmaException gone() {
    RdmaException f = failure;
    return f != null ? f : UcsStatus.cancelled("the endpoint is not open");
  }

  /** Memory an operation reads from: the caller's registered buffer in place, or a pooled copy of it. */
  private static final class Local {

    final long address;
    final int length;
    /** The caller's buffer, kept alive until the operation completes. */
    final ByteBuf owner;
    /** A pooled segment to return when the operation completes, or {@code null}. */
    final Segment copy;

    Local(long address, int length, ByteBuf owner, Segment copy) {
      this.address = address;
      this.length = length;
      this.owner = owner;
      this.copy = copy;
    }
  }

  private Local local(Buffer data) {
    ByteBuf buf = ((BufferInternal) data).getByteBuf();
    int length = buf.readableBytes();
    RegisteredByteBuf registered = RegisteredByteBuf.registered(buf);
    if (registered != null && registered.inSegment() && buf.hasMemoryAddress()) {
      return new Local(buf.memoryAddress() + buf.readerIndex(), length, buf, null);
    }
    Segment segment = ucx.memory().take(length);
    buf.getBytes(buf.readerIndex(), segment.dataView(length));
    return new Local(segment.dataAddress(), length, null, segment);
  }

  /** An operation on the endpoint, started on the progress thread. */
  @FunctionalInterface
  private interface Operation {

    UcpRequest start(UcpEndpoint endpoint, UcxCallback callback);
  }

  private Future<Void> submit(Local local, String what, Operation operation) {
    return submitKeeping(local, what, operation).andThen(ar -> {
      if (local != null && local.copy != null) {
        ucx.memory().recycle(local.copy);
      }
    });
  }

  /** Starts {@code operation}; completes on the caller's context; does not return {@code local}'s segment. */
  private Future<Void> submitKeeping(Local local, String what, Operation operation) {
    ContextInternal context = rdma.context();
    Promise<Void> promise = context.promise();
    ucx.execute(() -> {
      UcpEndpoint ep = endpoint;
      if (ep == null) {
        promise.fail(gone());
        return;
      }
      try {
        operation.start(ep, new UcxCallback() {
          @Override
          public void onSuccess(UcpRequest request) {
            promise.tryComplete();
          }

          @Override
          public void onError(int status, String message) {
            promise.tryFail(UcsStatus.failure(status, what + " failed: " + message));
          }
        });
      } catch (RuntimeException e) {
        promise.tryFail(UcsStatus.failure(UcsStatus.status(e), what + " failed: " + e.getMessage()));
      }
    });
    return promise.future();
  }

  /** An unpacked remote key, valid while its endpoint is open. */
  public static final class RemoteKey {

    final UcpRemoteKey key;

    RemoteKey(UcpRemoteKey key) {
      this.key = key;
    }
  }
}
