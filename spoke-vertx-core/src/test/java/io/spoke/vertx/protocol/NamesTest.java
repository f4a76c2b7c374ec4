// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NamesTest {

  @Test
  void acceptsTypicalIds() {
    assertThat(Names.checkId("actor id", "worker_0")).isNull();
    assertThat(Names.checkId("actor id", "llm-7.rank3")).isNull();
    assertThat(Names.checkId("actor id", "a".repeat(Names.MAX_ID_LENGTH))).isNull();
  }

  @Test
  void refusesIdsThatWouldEscapeTheLogDirectory() {
    assertThat(Names.checkId("actor id", "../../etc/passwd")).contains("must not start with '.'");
    assertThat(Names.checkId("actor id", "a/b")).contains("contains '/'");
    assertThat(Names.checkId("actor id", "a\\b")).contains("contains '\\'");
    assertThat(Names.checkId("actor id", "..")).isNotNull();
  }

  @Test
  void refusesEmptyLongAndOddIds() {
    assertThat(Names.checkId("actor id", "")).isEqualTo("actor id must not be empty");
    assertThat(Names.checkId("actor id", null)).isEqualTo("actor id must not be empty");
    assertThat(Names.checkId("actor id", "a".repeat(Names.MAX_ID_LENGTH + 1))).contains("the limit is 128");
    assertThat(Names.checkId("actor id", "has space")).contains("\\u0020");
    assertThat(Names.checkId("actor id", "-rf")).contains("must not start with '-'");
  }

  @Test
  void checksTypeNames() {
    assertThat(Names.checkType("MyActor")).isNull();
    assertThat(Names.checkType("com.example.MyActor")).isNull();
    assertThat(Names.checkType("")).isNotNull();
    assertThat(Names.checkType("My Actor")).contains("whitespace");
  }
}
