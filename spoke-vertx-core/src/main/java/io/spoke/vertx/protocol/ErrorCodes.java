// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import io.spoke.vertx.ActorDeadException;
import io.spoke.vertx.AuthenticationException;
import io.spoke.vertx.ActorNotFoundException;
import io.spoke.vertx.ActorTypeNotFoundException;
import io.spoke.vertx.DuplicateActorException;
import io.spoke.vertx.FrameTooLargeException;
import io.spoke.vertx.InfeasibleException;
import io.spoke.vertx.InvalidRequestException;
import io.spoke.vertx.NodeUnavailableException;
import io.spoke.vertx.PlacementTimeoutException;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.RdmaException;
import io.spoke.vertx.RdmaUnavailableException;
import io.spoke.vertx.RemoteActorException;
import io.spoke.vertx.SchedulingException;
import io.spoke.vertx.SerializationException;
import io.spoke.vertx.SlotTakenException;
import io.spoke.vertx.SpawnException;
import io.spoke.vertx.NotLeaderException;
import io.spoke.vertx.SpokeException;
import io.spoke.vertx.SpokeTimeoutException;
import io.spoke.vertx.TicketNotFoundException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.UnknownMethodException;
import io.spoke.vertx.VersionMismatchException;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.spoke.vertx.protocol.fb.Header;
import io.spoke.vertx.protocol.fb.LeaderHint;

/**
 * The one place where wire error codes ({@link ErrorCode}) and {@link SpokeException} subclasses meet, in
 * both directions, so that a failure keeps its type across processes.
 */
public final class ErrorCodes {

  private ErrorCodes() {
  }

  /** The wire code for a failure; anything that is not a {@link SpokeException} is {@code Internal}. */
  public static short codeOf(Throwable failure) {
    if (failure instanceof VersionMismatchException) {
      return ErrorCode.VersionMismatch;
    } else if (failure instanceof FrameTooLargeException) {
      return ErrorCode.FrameTooLarge;
    } else if (failure instanceof ProtocolException) {
      return ErrorCode.Protocol;
    } else if (failure instanceof AuthenticationException) {
      return ErrorCode.Authentication;
    } else if (failure instanceof InvalidRequestException || failure instanceof IllegalArgumentException) {
      return ErrorCode.InvalidArgument;
    } else if (failure instanceof SpokeTimeoutException) {
      return ErrorCode.Timeout;
    } else if (failure instanceof UnavailableException) {
      return ErrorCode.Unavailable;
    } else if (failure instanceof NotLeaderException) {
      return ErrorCode.NotLeader;
    } else if (failure instanceof ActorNotFoundException) {
      return ErrorCode.UnknownActor;
    } else if (failure instanceof UnknownMethodException) {
      return ErrorCode.UnknownMethod;
    } else if (failure instanceof ActorTypeNotFoundException) {
      return ErrorCode.UnknownActorType;
    } else if (failure instanceof DuplicateActorException) {
      return ErrorCode.DuplicateActor;
    } else if (failure instanceof ActorDeadException) {
      return ErrorCode.ActorDead;
    } else if (failure instanceof RemoteActorException) {
      return ErrorCode.RemoteFailure;
    } else if (failure instanceof SerializationException) {
      return ErrorCode.Serialization;
    } else if (failure instanceof SpawnException) {
      return ErrorCode.SpawnFailed;
    } else if (failure instanceof NodeUnavailableException) {
      return ErrorCode.NodeDead;
    } else if (failure instanceof InfeasibleException) {
      return ErrorCode.Infeasible;
    } else if (failure instanceof PlacementTimeoutException) {
      return ErrorCode.PlacementTimeout;
    } else if (failure instanceof SchedulingException) {
      return ErrorCode.InsufficientResources;
    } else if (failure instanceof TicketNotFoundException) {
      return ErrorCode.UnknownTicket;
    } else if (failure instanceof SlotTakenException) {
      return ErrorCode.SlotTaken;
    } else if (failure instanceof RdmaUnavailableException) {
      return ErrorCode.RdmaUnavailable;
    } else if (failure instanceof RdmaException) {
      return ErrorCode.Rdma;
    }
    return ErrorCode.Internal;
  }

  /**
   * The exception for a failed reply.
   *
   * @param remoteClass for {@code RemoteFailure}, the class of the exception the actor threw
   * @param actorId for {@code ActorDead}, the actor concerned, or {@code null}
   */
  public static SpokeException toException(short code, String message, String remoteClass, String actorId) {
    String text = message == null || message.isEmpty() ? ErrorCode.name(safe(code)) : message;
    switch (code) {
      case ErrorCode.Protocol:
        return new ProtocolException(text);
      case ErrorCode.VersionMismatch:
        return new VersionMismatchException(text);
      case ErrorCode.FrameTooLarge:
        return new FrameTooLargeException(text);
      case ErrorCode.Authentication:
        return new AuthenticationException(text);
      case ErrorCode.InvalidArgument:
        return new InvalidRequestException(text);
      case ErrorCode.Timeout:
        return new SpokeTimeoutException(text);
      case ErrorCode.Unavailable:
        return new UnavailableException(text);
      case ErrorCode.NotLeader:
        return new NotLeaderException(text, null);
      case ErrorCode.UnknownActor:
        return new ActorNotFoundException(text);
      case ErrorCode.UnknownMethod:
        return new UnknownMethodException(text);
      case ErrorCode.UnknownActorType:
        return new ActorTypeNotFoundException(text);
      case ErrorCode.DuplicateActor:
        return new DuplicateActorException(text);
      case ErrorCode.ActorDead:
        return new ActorDeadException(actorId, -1, null, text);
      case ErrorCode.RemoteFailure:
        return new RemoteActorException(remoteClass, message, text);
      case ErrorCode.Serialization:
        return new SerializationException(text);
      case ErrorCode.SpawnFailed:
        return new SpawnException(text);
      case ErrorCode.UnknownNode:
      case ErrorCode.NodeDead:
        return new NodeUnavailableException(text);
      case ErrorCode.InsufficientResources:
        return new SchedulingException(text);
      case ErrorCode.Infeasible:
        return new InfeasibleException(text);
      case ErrorCode.PlacementTimeout:
        return new PlacementTimeoutException(text);
      case ErrorCode.UnknownTicket:
        return new TicketNotFoundException(text);
      case ErrorCode.SlotTaken:
        return new SlotTakenException(text);
      case ErrorCode.RdmaUnavailable:
        return new RdmaUnavailableException(text);
      case ErrorCode.Rdma:
        return new RdmaException(0, "remote", text);
      default:
        return new SpokeException(text);
    }
  }

  /** The exception of a failed reply in {@code frame}, with what its detail body says ({@link LeaderHint}). */
  public static SpokeException toException(Frame frame) {
    Header header = frame.header();
    if (header.code() == ErrorCode.NotLeader) {
      String text = header.message() == null || header.message().isEmpty() ? "NotLeader" : header.message();
      LeaderHint hint = header.bodyType() == Body.LeaderHint ? (LeaderHint) header.body(new LeaderHint()) : null;
      return new NotLeaderException(text, hint == null ? null : hint.leader());
    }
    return toException(header.code(), header.message(), header.remoteClass(), null);
  }

  /** The detail body an error reply of {@code failure} carries ({@link LeaderHint} for a standby's refusal), or null. */
  public static Message detailOf(Throwable failure) {
    if (failure instanceof NotLeaderException) {
      String leader = ((NotLeaderException) failure).leader();
      return Message.of(Body.LeaderHint, b -> LeaderHint.createLeaderHint(b, leader == null ? 0 : b.createString(leader)));
    }
    return null;
  }

  /** A message for a failure that is not a {@link SpokeException}: its class and message. */
  public static String describe(Throwable failure) {
    if (failure instanceof SpokeException || failure instanceof IllegalArgumentException) {
      return String.valueOf(failure.getMessage());
    }
    return failure.getClass().getName() + (failure.getMessage() == null ? "" : ": " + failure.getMessage());
  }

  private static int safe(short code) {
    return code >= 0 && code < ErrorCode.names.length && !ErrorCode.names[code].isEmpty() ? code : ErrorCode.Internal;
  }
}
