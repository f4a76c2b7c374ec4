// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.protocol.ProtocolVersion;
import io.spoke.vertx.protocol.fb.Role;
import org.junit.jupiter.api.Test;

class ClientHelloTest {

  @Test
  void defaultsAndCopies() {
    ClientHello base = ClientHello.of(Role.Client, "c1", ClusterAuth.NONE);
    assertThat(base.maxFrameSize()).isEqualTo(ProtocolVersion.DEFAULT_MAX_FRAME_SIZE);
    assertThat(base.timeoutMs()).isEqualTo(ClientHello.DEFAULT_TIMEOUT_MS);
    assertThat(base.target()).isNull();
    assertThat(base.secret()).isNull();
    assertThat(base.session()).isNull();

    ClientHello toActor = base.withTarget("a1").withMaxFrameSize(1 << 20).withTimeout(500);
    assertThat(toActor.target()).isEqualTo("a1");
    assertThat(toActor.maxFrameSize()).isEqualTo(1 << 20);
    assertThat(toActor.timeoutMs()).isEqualTo(500);
    assertThat(toActor.role()).isEqualTo(Role.Client);
    assertThat(toActor.name()).isEqualTo("c1");
    // The base is unchanged: one client's hello serves all its connections.
    assertThat(base.target()).isNull();
    assertThat(base.withSession("s1").session()).isEqualTo("s1");
  }

  @Test
  void refusesValuesNoServerCouldUse() {
    ClientHello base = ClientHello.of(Role.Agent, null, ClusterAuth.NONE);
    assertThatThrownBy(() -> base.withMaxFrameSize(0)).isInstanceOf(IllegalArgumentException.class)
      .hasMessage("maxFrameSize must be positive, got 0");
    assertThatThrownBy(() -> base.withTimeout(-1)).isInstanceOf(IllegalArgumentException.class)
      .hasMessage("timeoutMs must be positive, got -1");
    assertThatThrownBy(() -> ClientHello.of((byte) 9, "x", ClusterAuth.NONE)).isInstanceOf(IllegalArgumentException.class)
      .hasMessage("role must be one of protocol.fb.Role, got 9");
    assertThatThrownBy(() -> ClientHello.of(Role.Client, "x", null)).isInstanceOf(NullPointerException.class).hasMessage("auth");
  }

  @Test
  void itsDescriptionNeverShowsTheSecret() {
    ClientHello hello = ClientHello.of(Role.ActorHost, "a1", ClusterAuth.NONE).withSecret("s3cr3t-spawn");
    assertThat(hello.secret()).isEqualTo("s3cr3t-spawn");
    assertThat(hello.toString()).contains("ActorHost", "'a1'").doesNotContain("s3cr3t");
  }
}
