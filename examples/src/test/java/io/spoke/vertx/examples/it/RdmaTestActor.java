// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples.it;

import io.spoke.vertx.actor.Actor;
import io.spoke.vertx.actor.MessageView;
import io.spoke.vertx.actor.SpokeActor;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;

/**
 * Methods the RDMA tests call: echo, a digest of the request as the actor read it, pushes, a call that never ends,
 * large transfers one way only, and the registered memory this process holds.
 */
@SpokeActor("RdmaTestActor")
public class RdmaTestActor extends Actor {

  static final int ECHO = 0x10;
  static final int DIGEST = 0x11;
  static final int PUSH = 0x12;
  static final int NEVER = 0x13;
  static final int PID = 0x14;
  static final int FILL = 0x15;
  static final int LENGTH = 0x16;
  static final int IN_USE = 0x17;
  static final int MAILBOX = 7;

  @Override
  protected void registerMethods() {
    registerMethod(ECHO, MessageView::buffer);
    registerMethod(DIGEST, msg -> digest(msg.byteBuffer()));
    registerMethod(PUSH, this::push);
    registerMethod(NEVER, msg -> Promise.promise().future());
    registerMethod(PID, msg -> Long.toString(ProcessHandle.current().pid()));
    // A reply of the size asked for (an int): the large transfer goes from the actor to the caller.
    registerMethod(FILL, msg -> Buffer.buffer(new byte[msg.buffer().getInt(0)]));
    // The request's length (an int): the large transfer goes from the caller to the actor.
    registerMethod(LENGTH, msg -> Buffer.buffer().appendInt(msg.byteBuffer().remaining()));
    // Registered segments this process has taken and not given back.
    registerMethod(IN_USE, msg -> io.spoke.vertx.rdma.Rdma.start(vertx).map(rdma -> Buffer.buffer().appendLong(rdma.memory().inUse())));
  }

  /** "length:crc32" of the bytes the actor sees, read in place from the receive buffer. */
  static String digest(ByteBuffer bytes) {
    CRC32 crc = new CRC32();
    int length = bytes.remaining();
    crc.update(bytes);
    return length + ":" + Long.toHexString(crc.getValue());
  }

  /** Request: count and size (two ints); pushes that many messages of that size, each filled with its index. */
  private Object push(MessageView msg) {
    Buffer request = msg.buffer();
    int count = request.getInt(0);
    int size = request.getInt(4);
    for (int i = 0; i < count; i++) {
      byte[] bytes = new byte[size];
      java.util.Arrays.fill(bytes, (byte) i);
      actorContext().push(MAILBOX, Buffer.buffer(bytes));
    }
    return Future.succeededFuture(count);
  }
}
