// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.ActorDeadException;
import io.spoke.vertx.ActorNotFoundException;
import io.spoke.vertx.ActorTypeNotFoundException;
import io.spoke.vertx.DuplicateActorException;
import io.spoke.vertx.FrameTooLargeException;
import io.spoke.vertx.InvalidRequestException;
import io.spoke.vertx.NodeUnavailableException;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.RemoteActorException;
import io.spoke.vertx.SchedulingException;
import io.spoke.vertx.SerializationException;
import io.spoke.vertx.SpawnException;
import io.spoke.vertx.SpokeException;
import io.spoke.vertx.SpokeTimeoutException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.UnknownMethodException;
import io.spoke.vertx.VersionMismatchException;
import io.spoke.vertx.protocol.fb.ErrorCode;
import java.util.List;
import org.junit.jupiter.api.Test;

class ErrorCodesTest {

  @Test
  void everyFailureKeepsItsTypeAcrossTheWire() {
    List<SpokeException> failures = List.of(new ProtocolException("p"), new VersionMismatchException("v"),
      new FrameTooLargeException("f"), new InvalidRequestException("i"), new SpokeTimeoutException("t"),
      new UnavailableException("u"), new ActorNotFoundException("a"), new UnknownMethodException("m"),
      new ActorTypeNotFoundException("t"), new DuplicateActorException("d"), new ActorDeadException("x", 137, "/log", "dead"),
      new RemoteActorException("java.lang.IllegalStateException", "boom", "boom"), new SerializationException("s"),
      new SpawnException("s"), new NodeUnavailableException("n"), new SchedulingException("s"),
      new io.spoke.vertx.InfeasibleException("i"), new io.spoke.vertx.PlacementTimeoutException("p"),
      new io.spoke.vertx.TicketNotFoundException("t"), new io.spoke.vertx.SlotTakenException("s"),
      new io.spoke.vertx.AuthenticationException("a"));
    for (SpokeException failure : failures) {
      short code = ErrorCodes.codeOf(failure);
      SpokeException back = ErrorCodes.toException(code, failure.getMessage(), "java.lang.IllegalStateException", "x");
      assertThat(back).as("code %s", ErrorCode.name(code)).isExactlyInstanceOf(failure.getClass());
      assertThat(back.getMessage()).isEqualTo(failure.getMessage());
    }
  }

  @Test
  void otherFailuresAreInternalAndNamed() {
    assertThat(ErrorCodes.codeOf(new NullPointerException())).isEqualTo(ErrorCode.Internal);
    assertThat(ErrorCodes.codeOf(new IllegalArgumentException("bad"))).isEqualTo(ErrorCode.InvalidArgument);
    assertThat(ErrorCodes.describe(new IllegalStateException("oops"))).isEqualTo("java.lang.IllegalStateException: oops");
    assertThat(ErrorCodes.toException((short) 999, null, null, null)).isExactlyInstanceOf(SpokeException.class);
  }

  @Test
  void remoteFailuresCarryTheRemoteClass() {
    RemoteActorException e = (RemoteActorException) ErrorCodes.toException(ErrorCode.RemoteFailure, "no weights",
      "java.io.FileNotFoundException", null);
    assertThat(e.remoteClass()).isEqualTo("java.io.FileNotFoundException");
    assertThat(e.remoteMessage()).isEqualTo("no weights");
  }

  @Test
  void expectedFailuresCarryNoStackTrace() {
    assertThat(new ActorNotFoundException("x").getStackTrace()).isEmpty();
  }
}
