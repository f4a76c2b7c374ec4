// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.RdmaAccept;
import io.spoke.vertx.protocol.fb.RdmaConnect;
import io.spoke.vertx.protocol.fb.Subscribe;
import io.spoke.vertx.protocol.fb.Unsubscribe;

/**
 * The control messages between a client and an actor host, besides calls, pushes and stream credits (those have
 * allocation-free encoders in {@link FrameEncoder} and views: {@link CallView}, {@link PushView},
 * {@link StreamCreditView}): subscriptions and the RDMA upgrade.
 */
public final class ActorCodec {

  private ActorCodec() {
  }

  // ---------------------------------------------------------------- written by the client, read by the actor host

  /** The mailbox a Subscribe asks for. */
  public static int readSubscribe(Frame frame) {
    return ((Subscribe) frame.header().body(new Subscribe())).mailbox();
  }

  /** The mailbox an Unsubscribe leaves. */
  public static int readUnsubscribe(Frame frame) {
    return ((Unsubscribe) frame.header().body(new Unsubscribe())).mailbox();
  }

  /**
   * What an RdmaConnect says: the client's UCX worker address (empty when it sent none) and the id of its end of the
   * link.
   */
  public record RdmaConnectValue(byte[] workerAddress, long link) {
  }

  /** Reads an RdmaConnect; the value outlives the frame. */
  public static RdmaConnectValue readRdmaConnect(Frame frame) {
    RdmaConnect request = (RdmaConnect) frame.header().body(new RdmaConnect());
    return new RdmaConnectValue(Messages.bytes(request.workerAddressAsByteBuffer()), request.link());
  }

  /** Push what the actor sends to mailbox {@code mailbox} to this client. */
  public static Message subscribe(int mailbox) {
    return Message.of(Body.Subscribe, b -> Subscribe.createSubscribe(b, mailbox));
  }

  /** Stop pushing mailbox {@code mailbox} to this client. */
  public static Message unsubscribe(int mailbox) {
    return Message.of(Body.Unsubscribe, b -> Unsubscribe.createUnsubscribe(b, mailbox));
  }

  /** Open an RDMA link to the actor host's UCX worker from the client's {@code workerAddress} and link {@code link}. */
  public static Message rdmaConnect(byte[] workerAddress, long link) {
    return Message.of(Body.RdmaConnect, b -> {
      int addressOffset = RdmaConnect.createWorkerAddressVector(b, workerAddress);
      return RdmaConnect.createRdmaConnect(b, addressOffset, link);
    });
  }

  // ---------------------------------------------------------------- written by the actor host, read by the client

  /** The answer to an RdmaConnect: the actor host's UCX worker address and the id of its end of the link. */
  public static Message rdmaAccept(byte[] workerAddress, long link) {
    return Message.of(Body.RdmaAccept,
      b -> RdmaAccept.createRdmaAccept(b, RdmaAccept.createWorkerAddressVector(b, workerAddress), link));
  }

  /** The actor host's end of an RDMA link, as its RdmaAccept tells it. */
  public record RdmaAcceptValue(byte[] workerAddress, long link) {
  }

  /**
   * The actor host's answer to {@link #rdmaConnect}; a {@link ProtocolException} when it is not an RdmaAccept or
   * has no worker address.
   */
  public static RdmaAcceptValue readRdmaAccept(Frame frame) {
    if (frame.bodyType() != Body.RdmaAccept) {
      throw new ProtocolException("expected RdmaAccept in answer to RdmaConnect");
    }
    RdmaAccept accept = (RdmaAccept) frame.header().body(new RdmaAccept());
    byte[] address = Messages.bytes(accept.workerAddressAsByteBuffer());
    if (address.length == 0) {
      throw new ProtocolException("RdmaAccept without a worker address");
    }
    return new RdmaAcceptValue(address, accept.link());
  }
}
