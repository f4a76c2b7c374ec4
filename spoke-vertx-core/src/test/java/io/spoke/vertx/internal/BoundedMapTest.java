// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BoundedMapTest {

  @Test
  void keepsTheLastEntriesPutAndDropsTheOldest() {
    BoundedMap<String, Integer> map = new BoundedMap<>(3);
    for (int i = 0; i < 10; i++) {
      map.put("k" + i, i);
    }
    assertThat(map).hasSize(3).containsOnlyKeys("k7", "k8", "k9");
    assertThat(map.capacity()).isEqualTo(3);
  }

  @Test
  void puttingAKeyAgainReplacesItsValueWithoutMakingItYounger() {
    BoundedMap<String, Integer> map = new BoundedMap<>(2);
    map.put("a", 1);
    map.put("b", 2);
    map.put("a", 3);
    assertThat(map).containsEntry("a", 3).hasSize(2);
    map.put("c", 4);
    assertThat(map).containsOnlyKeys("b", "c");
    // Reading does not reorder either.
    map.get("b");
    map.put("d", 5);
    assertThat(map).containsOnlyKeys("c", "d");
  }

  @Test
  void refusesACapacityBelowOne() {
    assertThatThrownBy(() -> new BoundedMap<>(0)).isInstanceOf(IllegalArgumentException.class)
      .hasMessage("capacity must be at least 1, got 0");
  }
}
