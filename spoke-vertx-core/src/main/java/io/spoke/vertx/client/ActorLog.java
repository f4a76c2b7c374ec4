// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import io.vertx.core.buffer.Buffer;

/** A piece of an actor's log file, read through the hub from the actor's node ({@link SpokeClient#readLog}). */
public final class ActorLog {

  private final String path;
  private final long offset;
  private final long nextOffset;
  private final long size;
  private final boolean running;
  private final Buffer data;

  public ActorLog(String path, long offset, long nextOffset, long size, boolean running, Buffer data) {
    this.path = path;
    this.offset = offset;
    this.nextOffset = nextOffset;
    this.size = size;
    this.running = running;
    this.data = data;
  }

  /** The log file's path on the actor's node. */
  public String path() {
    return path;
  }

  /** Where {@link #data()} starts in the file. */
  public long offset() {
    return offset;
  }

  /** Where the next read should start. */
  public long nextOffset() {
    return nextOffset;
  }

  /** The file's size when it was read. */
  public long size() {
    return size;
  }

  /** Whether the actor still runs (its log may grow). */
  public boolean running() {
    return running;
  }

  /** The bytes read. */
  public Buffer data() {
    return data;
  }
}
