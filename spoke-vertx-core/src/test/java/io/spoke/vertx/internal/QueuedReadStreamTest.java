// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Delivery order of the queue behind streamed results: items, then the end or the failure, as demand allows. */
class QueuedReadStreamTest {

  private static final class Stream extends QueuedReadStream<Integer> {
  }

  @Test
  void aFailureComesAfterTheItemsProducedBeforeItEvenWhenTheHandlersComeLate() {
    Stream stream = new Stream();
    List<Object> seen = new ArrayList<>();
    stream.offer(1);
    stream.offer(2);
    stream.failWith(new IllegalStateException("boom"));
    stream.offer(3);
    stream.handler(seen::add);
    stream.exceptionHandler(e -> seen.add(e.getMessage()));
    assertThat(seen).containsExactly(1, 2, "boom");
  }

  @Test
  void aPausedConsumerGetsTheFailureOnlyAfterFetchingTheItemsBeforeIt() {
    Stream stream = new Stream();
    List<Object> seen = new ArrayList<>();
    stream.handler(seen::add).exceptionHandler(e -> seen.add(e.getMessage()));
    stream.pause();
    stream.offer(1);
    stream.offer(2);
    stream.failWith(new IllegalStateException("boom"));
    assertThat(seen).isEmpty();
    stream.fetch(1);
    assertThat(seen).containsExactly(1);
    stream.fetch(1);
    assertThat(seen).containsExactly(1, 2, "boom");
  }
}
