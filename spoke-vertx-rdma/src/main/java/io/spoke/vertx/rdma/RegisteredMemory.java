// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.rdma;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.spoke.vertx.rdma.impl.RegisteredByteBuf;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.openucx.jucx.UcxUtils;
import org.openucx.jucx.ucp.UcpContext;
import org.openucx.jucx.ucp.UcpMemMapParams;
import org.openucx.jucx.ucp.UcpMemory;
import org.openucx.jucx.ucs.UcsConstants;

/**
 * A pool of memory registered with UCX once and reused: every frame sent over an RDMA link is encoded
 * straight into a segment of it, and every frame received lands in one, so payloads are written once and
 * read in place (Spoke's PackTo and MessageView).
 * <p>
 * Segments come in size classes: powers of two from 4 KiB to 256 KiB, carved from 4 MiB registered slabs
 * that are kept for the life of the process; larger segments are registered one by one, rounded up to a
 * quarter of their power of two, and up to {@link #MAX_CACHED_LARGE_BYTES} of them are kept for reuse, the
 * rest deregistered when returned. Each segment keeps {@link #HEADROOM} bytes in front of its data for the
 * active-message header, so a frame and its header go out from one registration.
 * <p>
 * Thread-safe: event loops take segments to encode, the progress thread to receive, and whoever releases
 * the last reference to a buffer returns its segment. Registration needs the UCX context to be created
 * with shared workers ({@code mt_workers_shared}), which the UCX runtime does.
 */
public final class RegisteredMemory {

  /** Bytes in front of each segment's data: the link id and sequence number of the frame's AM header. */
  public static final int HEADROOM = 16;

  private static final int MIN_SHIFT = 12;
  private static final int SLAB_MAX_SHIFT = 18;
  private static final int SLAB_SIZE = 4 << 20;
  /** Large segments kept for reuse; beyond this, returned ones are deregistered. */
  public static final long MAX_CACHED_LARGE_BYTES = 256L << 20;

  private static final int HOST = UcsConstants.MEMORY_TYPE.UCS_MEMORY_TYPE_HOST;

  private final UcpContext context;
  private final ArrayDeque<Segment>[] small;
  private final Map<Long, ArrayDeque<Segment>> large = new HashMap<>();
  private final List<UcpMemory> slabs = new ArrayList<>();
  private final Allocator allocator = new Allocator();
  private final HeapCopies heapCopies = new HeapCopies();
  private long cachedLargeBytes;
  private long registeredBytes;
  private long inUse;
  private boolean closed;

  /**
   * Internal: the pool of the UCX runtime, which makes the process's one ({@link Rdma#memory()}); not API.
   *
   * @param context the UCX context, created with shared workers
   */
  @SuppressWarnings({"rawtypes", "unchecked"}) // Java creates no generic arrays: the slabs' array is made raw, used typed
  public RegisteredMemory(UcpContext context) {
    this.context = context;
    this.small = new ArrayDeque[SLAB_MAX_SHIFT - MIN_SHIFT + 1];
    for (int i = 0; i < small.length; i++) {
      small[i] = new ArrayDeque<>();
    }
  }

  /** A registered region of memory, with {@link #HEADROOM} bytes before {@link #dataAddress()}. */
  public static final class Segment {

    final RegisteredMemory pool;
    final UcpMemory registration;
    final long address;
    final long size;
    /** The whole segment as an NIO view, created once. */
    final ByteBuffer view;
    /** {@code true} for a segment with its own registration (not carved from a slab). */
    final boolean own;

    Segment(RegisteredMemory pool, UcpMemory registration, long address, long size, boolean own) {
      this.pool = pool;
      this.registration = registration;
      this.address = address;
      this.size = size;
      this.own = own;
      this.view = UcxUtils.getByteBufferView(address, size);
    }

    /**
     * Where the segment starts: its {@link #HEADROOM}, then the data. Internal (the UCX runtime writes a frame's
     * routing header there); not API.
     *
     * @return the segment's address
     */
    public long address() {
      return address;
    }

    /**
     * Internal: the pool the segment goes back to; not API.
     *
     * @return the pool that made the segment
     */
    public RegisteredMemory pool() {
      return pool;
    }

    /** Where a frame's bytes start. */
    public long dataAddress() {
      return address + HEADROOM;
    }

    /** Bytes available after the headroom. */
    public long dataCapacity() {
      return size - HEADROOM;
    }

    public UcpMemory registration() {
      return registration;
    }

    /**
     * Internal: a view of {@code length} bytes from the data address, for a buffer (the caller owns the segment;
     * the view is the segment's one, repositioned); not API.
     *
     * @param length how many bytes the view shows
     * @return the view
     */
    public ByteBuffer dataView(int length) {
      view.clear().position(HEADROOM).limit(HEADROOM + length);
      return view;
    }
  }

  /** A segment with at least {@code dataLength} bytes after the headroom. */
  public Segment take(long dataLength) {
    long need = dataLength + HEADROOM;
    if (need <= 1L << SLAB_MAX_SHIFT) {
      int shift = Math.max(MIN_SHIFT, 64 - Long.numberOfLeadingZeros(need - 1));
      synchronized (this) {
        checkOpen();
        ArrayDeque<Segment> free = small[shift - MIN_SHIFT];
        if (free.isEmpty()) {
          carve(shift, free);
        }
        inUse++;
        return free.pop();
      }
    }
    long size = largeSize(need);
    synchronized (this) {
      checkOpen();
      ArrayDeque<Segment> free = large.get(size);
      if (free != null && !free.isEmpty()) {
        cachedLargeBytes -= size;
        inUse++;
        return free.pop();
      }
      UcpMemory registration = map(size);
      registeredBytes += size;
      inUse++;
      return new Segment(this, registration, registration.getAddress(), size, true);
    }
  }

  /** Gives a segment back; it must not be used after this. */
  public void recycle(Segment segment) {
    synchronized (this) {
      inUse--;
      if (!segment.own) {
        if (!closed) {
          int shift = 64 - Long.numberOfLeadingZeros(segment.size - 1);
          small[shift - MIN_SHIFT].push(segment);
        }
        return;
      }
      if (!closed && cachedLargeBytes + segment.size <= MAX_CACHED_LARGE_BYTES) {
        large.computeIfAbsent(segment.size, k -> new ArrayDeque<>()).push(segment);
        cachedLargeBytes += segment.size;
        return;
      }
      registeredBytes -= segment.size;
    }
    segment.registration.deregister();
  }

  /** Rounds a large size up to a quarter of its power of two (at most 25% waste). */
  static long largeSize(long need) {
    int shift = 64 - Long.numberOfLeadingZeros(need - 1);
    long quarter = 1L << (shift - 3);
    return (need + quarter - 1) & -quarter;
  }

  private void carve(int shift, ArrayDeque<Segment> free) {
    UcpMemory slab = map(SLAB_SIZE);
    slabs.add(slab);
    registeredBytes += SLAB_SIZE;
    long size = 1L << shift;
    for (long offset = 0; offset + size <= SLAB_SIZE; offset += size) {
      free.push(new Segment(this, slab, slab.getAddress() + offset, size, false));
    }
  }

  private UcpMemory map(long size) {
    try {
      return context.memoryMap(new UcpMemMapParams().allocate().setLength(size).setMemoryType(HOST));
    } catch (RuntimeException e) {
      throw new OutOfMemoryError("cannot register " + size + " bytes with UCX: " + e.getMessage());
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the UCX runtime is closed");
    }
  }

  /** Segments taken and not yet returned: 0 when nothing is in flight (tests check that nothing leaks). */
  public synchronized long inUse() {
    return inUse;
  }

  /** Bytes registered with UCX right now. */
  public synchronized long registeredBytes() {
    return registeredBytes;
  }

  /**
   * A Vert.x-ready buffer of {@code capacity} writable bytes in registered memory: write into it (a
   * serializer can, through {@code BufferInternal.buffer(byteBuf)}), hand it to an endpoint, and release it
   * when the operation's future completes; its segment then returns to the pool.
   */
  public ByteBuf buffer(int capacity) {
    return newBuffer(capacity, Integer.MAX_VALUE);
  }

  private RegisteredByteBuf newBuffer(int capacity, int maxCapacity) {
    Segment segment = take(Math.max(capacity, 1));
    RegisteredByteBuf buf = new RegisteredByteBuf(heapCopies, segment, (int) Math.min(segment.dataCapacity(), maxCapacity), maxCapacity);
    buf.clear();
    return buf;
  }

  /**
   * Internal: allocates frames in registered memory, what an RDMA link gives its connection's encoder; not API.
   *
   * @return the pool's allocator of frames
   */
  public AbstractByteBufAllocator allocator() {
    return allocator;
  }

  /**
   * Internal: a buffer over received bytes in {@code segment}, {@code length} of them readable; releasing it
   * returns the segment. Not API.
   *
   * @param segment a segment of this pool, which the buffer owns from now on
   * @param length how many bytes were received into its data
   * @return the buffer (a {@code RegisteredByteBuf})
   */
  public ByteBuf wrapReceived(Segment segment, int length) {
    return new RegisteredByteBuf(heapCopies, segment, length, length);
  }

  synchronized void close() {
    closed = true;
    for (ArrayDeque<Segment> free : large.values()) {
      for (Segment segment : free) {
        segment.registration.deregister();
      }
    }
    large.clear();
    for (UcpMemory slab : slabs) {
      slab.deregister();
    }
    slabs.clear();
  }

  /**
   * The allocator registered buffers report: what Netty uses for their copies ({@code Buffer.copy()} of a
   * received payload, which handlers keep). Copies go to the heap, so that a copy an application keeps and
   * never releases does not hold a registered segment, or leak direct memory.
   */
  private static final class HeapCopies extends AbstractByteBufAllocator {

    HeapCopies() {
      super(false);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      return Unpooled.buffer(initialCapacity, maxCapacity);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      return Unpooled.buffer(initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }
  }

  private final class Allocator extends AbstractByteBufAllocator {

    Allocator() {
      super(true);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      return Unpooled.buffer(initialCapacity, maxCapacity);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      return newBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
      return true;
    }
  }
}
