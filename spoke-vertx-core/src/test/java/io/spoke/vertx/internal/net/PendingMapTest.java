// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The pending-request map against java.util.HashMap, under the access pattern of a connection and at random. */
class PendingMapTest {

  @Test
  void behavesLikeAMapUnderRandomOperations() {
    SplittableRandom random = new SplittableRandom(1);
    PendingMap<String> map = new PendingMap<>();
    Map<Long, String> reference = new HashMap<>();
    long nextId = 1;
    List<Long> live = new ArrayList<>();
    for (int op = 0; op < 200_000; op++) {
      int what = random.nextInt(10);
      if (what < 5 || live.isEmpty()) {
        // Mostly consecutive ids, as a connection assigns them; sometimes arbitrary ones.
        long id = random.nextInt(20) == 0 ? random.nextLong() : nextId++;
        map.put(id, "v" + id);
        if (reference.put(id, "v" + id) == null) {
          live.add(id);
        }
      } else if (what < 9) {
        long id = live.remove(random.nextInt(live.size()));
        assertThat(map.remove(id)).isEqualTo(reference.remove(id));
        assertThat(map.remove(id)).isNull();
      } else {
        long id = random.nextBoolean() && !live.isEmpty() ? live.get(random.nextInt(live.size())) : random.nextLong();
        assertThat(map.get(id)).isEqualTo(reference.get(id));
      }
      assertThat(map.size()).isEqualTo(reference.size());
    }
    for (long id : live) {
      assertThat(map.get(id)).isEqualTo("v" + id);
    }
  }

  @Test
  void removeIfTakesOutExactlyWhatMatchesAndClearEmpties() {
    PendingMap<Long> map = new PendingMap<>();
    for (long id = 0; id < 1_000; id++) {
      map.put(id, id);
    }
    List<Long> removed = map.removeIf(v -> v % 3 == 0);
    assertThat(removed).hasSize(334).allMatch(v -> v % 3 == 0);
    assertThat(map.size()).isEqualTo(666);
    for (long id = 0; id < 1_000; id++) {
      assertThat(map.get(id)).isEqualTo(id % 3 == 0 ? null : id);
    }
    assertThat(map.clear()).hasSize(666);
    assertThat(map.isEmpty()).isTrue();
    assertThat(map.get(1)).isNull();
    map.put(5, 5L);
    assertThat(map.get(5)).isEqualTo(5L);
  }
}
