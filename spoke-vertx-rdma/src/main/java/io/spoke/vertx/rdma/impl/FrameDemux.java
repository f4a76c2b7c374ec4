// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.rdma.impl;

import io.netty.util.collection.LongObjectHashMap;
import io.netty.util.internal.PlatformDependent;
import io.spoke.vertx.rdma.RegisteredMemory;
import io.spoke.vertx.rdma.RegisteredMemory.Segment;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.openucx.jucx.UcxCallback;
import org.openucx.jucx.ucp.UcpAmData;
import org.openucx.jucx.ucp.UcpEndpoint;
import org.openucx.jucx.ucp.UcpRequest;
import org.openucx.jucx.ucp.UcpWorker;
import org.openucx.jucx.ucs.UcsConstants;

/**
 * The worker's active-message handler of Spoke frames: finds each frame's link by the id in its header and hands
 * it the frame in a registered segment.
 * <p>
 * Spoke frames travel as active messages with id {@link #FRAME_AM_ID} and a 16-byte header: the receiving
 * link's id and the frame's sequence number on its link, so that frames are delivered in order even when
 * UCX completes a rendezvous after a later eager message. Frames from {@link #RNDV_THRESHOLD} bytes up are
 * sent by rendezvous, into a registered segment the receiver picks for the exact size.
 */
final class FrameDemux {

  /** The runtime's logger, as before the frames had a class of their own. */
  private static final Logger log = LogManager.getLogger(UcxRuntime.class);

  /** Active message id of Spoke frames. */
  static final int FRAME_AM_ID = 0x53;
  /** Frames from this size up go by rendezvous: the receiver pulls them straight into a registered segment. */
  static final int RNDV_THRESHOLD = 64 * 1024;
  static final int AM_HEADER_SIZE = 16;

  private final UcpWorker worker;
  private final RegisteredMemory memory;
  private final long maxAmHeaderSize;
  /** Links by the id their frames carry; progress thread only. */
  private final LongObjectHashMap<UcxLink> links = new LongObjectHashMap<>();

  FrameDemux(UcpWorker worker, RegisteredMemory memory, long maxAmHeaderSize) {
    this.worker = worker;
    this.memory = memory;
    this.maxAmHeaderSize = maxAmHeaderSize;
  }

  /** On the progress thread. */
  void register(long linkId, UcxLink link) {
    links.put(linkId, link);
  }

  /** On the progress thread. */
  void unregister(long linkId) {
    links.remove(linkId);
  }

  /** Active-message handler of frames: on the progress thread, inside {@code ucp_worker_progress}. */
  int onFrame(long headerAddress, long headerSize, UcpAmData data, UcpEndpoint replyEp) {
    long length = data.getLength();
    if (headerSize < AM_HEADER_SIZE || headerSize > maxAmHeaderSize) {
      log.warn("Dropping an active message with a {}-byte header: not a Spoke frame", headerSize);
      drain(data);
      return UcsConstants.STATUS.UCS_OK;
    }
    long linkId = PlatformDependent.getLong(headerAddress);
    long sequence = PlatformDependent.getLong(headerAddress + 8);
    // A frame whose payload was sent in place has its header in the active message's header, after the routing.
    int inlineHeader = (int) (headerSize - AM_HEADER_SIZE);
    long frameLength = inlineHeader + length;
    UcxLink link = links.get(linkId);
    if (link == null || frameLength > Integer.MAX_VALUE - RegisteredMemory.HEADROOM) {
      if (link != null) {
        link.fail(UcsConstants.STATUS.UCS_ERR_MESSAGE_TRUNCATED, "a frame of " + frameLength + " bytes is larger than a Java buffer");
      }
      drain(data);
      return UcsConstants.STATUS.UCS_OK;
    }
    Segment segment;
    try {
      segment = memory.take(frameLength);
    } catch (OutOfMemoryError | IllegalStateException e) {
      link.fail(UcsConstants.STATUS.UCS_ERR_NO_MEMORY, "no registered memory for a frame of " + frameLength + " bytes: " + e.getMessage());
      drain(data);
      return UcsConstants.STATUS.UCS_OK;
    }
    if (inlineHeader > 0) {
      PlatformDependent.copyMemory(headerAddress + AM_HEADER_SIZE, segment.dataAddress(), inlineHeader);
    }
    long target = segment.dataAddress() + inlineHeader;
    if (data.isDataValid()) {
      PlatformDependent.copyMemory(data.getDataAddress(), target, length);
      link.received(sequence, segment, (int) frameLength);
    } else {
      worker.recvAmDataNonBlocking(data.getDataHandle(), target, length, new UcxCallback() {
        @Override
        public void onSuccess(UcpRequest request) {
          link.received(sequence, segment, (int) frameLength);
        }

        @Override
        public void onError(int status, String message) {
          memory.recycle(segment);
          link.fail(status, "receiving a frame of " + frameLength + " bytes failed: " + message);
        }
      }, UcxRuntime.HOST_PARAMS);
    }
    return UcsConstants.STATUS.UCS_OK;
  }

  /** Consumes a message nobody wants: a rendezvous must still be completed, or the sender waits for ever. */
  private void drain(UcpAmData data) {
    if (data.isDataValid()) {
      return;
    }
    Segment scratch = memory.take(data.getLength());
    worker.recvAmDataNonBlocking(data.getDataHandle(), scratch.dataAddress(), data.getLength(), new UcxCallback() {
      @Override
      public void onSuccess(UcpRequest request) {
        memory.recycle(scratch);
      }

      @Override
      public void onError(int status, String message) {
        memory.recycle(scratch);
      }
    }, UcxRuntime.HOST_PARAMS);
  }
}
