// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks.baseline;

import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.parsetools.RecordParser;

/** The baselines' framing, like Spoke's without its header: a 4-byte length, then that many bytes. */
final class LengthPrefixed {

  private LengthPrefixed() {
  }

  /** A parser handing each record's bytes (without the length) to {@code onRecord}. */
  static RecordParser parser(Handler<Buffer> onRecord) {
    RecordParser parser = RecordParser.newFixed(4);
    boolean[] inRecord = {false};
    parser.handler(chunk -> {
      if (!inRecord[0]) {
        inRecord[0] = true;
        parser.fixedSizeMode(chunk.getInt(0));
      } else {
        inRecord[0] = false;
        parser.fixedSizeMode(4);
        onRecord.handle(chunk);
      }
    });
    return parser;
  }

  /** {@code payload} with its length in front. */
  static Buffer frame(Buffer payload) {
    return Buffer.buffer(4 + payload.length()).appendInt(payload.length()).appendBuffer(payload);
  }
}
