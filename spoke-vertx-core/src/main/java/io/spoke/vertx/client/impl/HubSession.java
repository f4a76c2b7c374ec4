// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client.impl;

import io.spoke.vertx.NotLeaderException;
import io.spoke.vertx.SpokeTimeoutException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.client.TicketState;
import io.spoke.vertx.internal.Jitter;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.internal.net.HubEndpoints;
import io.spoke.vertx.internal.net.ReplyDecoder;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.HubClientCodec;
import io.spoke.vertx.protocol.Message;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The client's session with the hub: its one connection (opened on first use, reopened on the next use after a
 * loss), the session id the client's tickets belong to, the tickets it owns (kept across a lost hub by reconnecting
 * in the background), and the events the hub pushes. Confined to the client's context.
 */
final class HubSession {

  private static final Logger log = LogManager.getLogger(HubSession.class);

  /** First and longest wait between tries to reach a lost hub while this client owns tickets (see keepSession). */
  static final long HUB_RETRY_MIN_MS = 100;
  static final long HUB_RETRY_MAX_MS = 2_000;

  private final Vertx vertx;
  private final SpokeClientOptions options;
  private final NetClient netClient;
  private final HubEndpoints hubs;
  private final ClientHello hello;
  private final BooleanSupplier closed;
  /** Identifies this client to the hub across reconnections: its tickets belong to it. */
  private final String session = "s-" + Long.toHexString(new SecureRandom().nextLong());
  /** Tickets this client allocated, not detached: released by close(). */
  private final Set<String> ownedTickets = new LinkedHashSet<>();
  private Handler<Allocation> ticketHandler;
  private Handler<ActorInfo> actorEventHandler = info -> { };
  private Connection hub;
  private Future<Connection> hubConnecting;
  /** While the hub is lost and this client owns tickets: the timer of the next try to reach it again. */
  private long hubRetryTimer = -1;
  private long hubRetryDelay = HUB_RETRY_MIN_MS;

  /** @param closed whether the client is closed (read on its context) */
  HubSession(Vertx vertx, SpokeClientOptions options, NetClient netClient, ClientHello hello, BooleanSupplier closed) {
    this.hubs = HubEndpoints.of(options.getHubAddresses(), options.getHubHost(), options.getHubPort());
    this.vertx = vertx;
    this.options = options;
    this.netClient = netClient;
    this.hello = hello;
    this.closed = closed;
  }

  /** Where the hub's ActorEvents go, on the client's context. */
  void actorEventHandler(Handler<ActorInfo> handler) {
    this.actorEventHandler = handler;
  }

  synchronized void ticketHandler(Handler<Allocation> handler) {
    this.ticketHandler = handler;
  }

  private synchronized Handler<Allocation> ticketHandler() {
    return ticketHandler;
  }

  /** Sends {@code message} to the hub, connecting first if need be, and completes with its decoded reply. */
  <T> Future<T> request(Message message, Buffer payload, long timeoutMs, String what, ReplyDecoder<T> decoder) {
    return connection().compose(hub -> hub.request(message, payload, timeoutMs, what, decoder).onFailure(err -> {
      if (err instanceof SpokeTimeoutException && hubs.hubs().size() > 1 && !hub.isClosed()) {
        // One of several hubs that does not answer (paused, cut off): the next request goes to the one that leads.
        log.warn("The hub at {} did not answer {}; the next request tries the hubs of {}", hub.remoteAddress(), what, hubs.describe());
        hub.close();
      }
    }));
  }

  /**
   * {@code attempt}, and with several hubs again while it fails because the hub was lost before it answered or none
   * leads yet (a failover), every 100-300 ms within {@code budgetMs}. Only for requests a hub applies once however
   * often they come: a gang allocation (by its ticket id: the first answer), a release, the status.
   */
  <T> Future<T> acrossFailover(long budgetMs, Supplier<Future<T>> attempt) {
    if (hubs.hubs().size() == 1) {
      return attempt.get();
    }
    return retry(attempt, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(budgetMs));
  }

  private <T> Future<T> retry(Supplier<Future<T>> attempt, long deadline) {
    return attempt.get().recover(err -> {
      if (closed.getAsBoolean() || !(err instanceof UnavailableException || err instanceof NotLeaderException)
        || System.nanoTime() - deadline > 0) {
        return Future.failedFuture(err);
      }
      Promise<Void> pause = Promise.promise();
      vertx.setTimer(Jitter.spread(200), t -> pause.complete());
      return pause.future().compose(v -> retry(attempt, deadline));
    });
  }

  /** Allocates a gang; this client owns its ticket (releases it on close) unless the request is detached. */
  Future<Allocation> gangAllocate(GangRequest request, long timeoutMs) {
    return connection().compose(hub -> {
      if (!request.isDetached()) {
        ownedTickets.add(request.getTicketId());
      }
      // The hub answers when the gang is placed (or its wait ends), then reserves a rendezvous port: allow for both.
      return hub.request(HubClientCodec.gangAllocate(request, timeoutMs), null, timeoutMs + options.getRequestTimeout(),
          "gang allocation of ticket " + request.getTicketId(), HubClientCodec::readAllocation)
        .onFailure(err -> ownedTickets.remove(request.getTicketId()));
    });
  }

  Future<Void> release(String ticketId) {
    // Stopping the ticket's actors may take the agents' stop timeout.
    return acrossFailover(options.getRequestTimeout(), () -> request(HubClientCodec.release(ticketId), null,
      options.getRequestTimeout() + 60_000, "release of ticket " + ticketId, f -> (Void) null)).onSuccess(v -> ownedTickets.remove(ticketId));
  }

  /** Releases every ticket this client owns; a failure to release one is logged, not reported. */
  Future<Void> releaseOwnedTickets() {
    List<Future<Void>> releases = new ArrayList<>();
    for (String ticket : new ArrayList<>(ownedTickets)) {
      releases.add(release(ticket).recover(err -> {
        log.warn("Releasing ticket {} on close failed: {}", ticket, err.getMessage());
        return Future.succeededFuture();
      }));
    }
    return Future.join(releases).mapEmpty();
  }

  /** The connection to the hub, opened on first use and after a loss. */
  Future<Connection> connection() {
    if (closed.getAsBoolean()) {
      return Future.failedFuture(new IllegalStateException("client is closed"));
    }
    if (hub != null && !hub.isClosed()) {
      return Future.succeededFuture(hub);
    }
    if (hubConnecting == null) {
      hubConnecting = hubs.connect(netClient, hello.withSession(session))
        .recover(err -> Future.failedFuture(err instanceof UnavailableException
          ? new UnavailableException("cannot reach the Spoke hub at " + hubs.describe() + " (" + SpokeClientImpl.rootMessage(err)
          + "); is it running? Start one with ./spoke hub, or set the hub's address in SpokeClientOptions")
          : err))
        .onComplete(ar -> {
          hubConnecting = null;
          if (ar.succeeded()) {
            Connection connection = ar.result();
            hub = connection;
            connection.messageHandler(this::onMessage);
            hubRetryDelay = HUB_RETRY_MIN_MS;
            connection.closeHandler(c -> {
              if (hub == c) {
                hub = null;
                keepSession();
              }
            });
          }
        });
    }
    return hubConnecting;
  }

  /**
   * The hub connection was lost while this client owns tickets: reconnect in the background, at growing intervals
   * (at most {@link #HUB_RETRY_MAX_MS} apart), so that the hub (restarted, or reachable again) sees the session
   * back within its grace period and keeps the tickets.
   */
  private void keepSession() {
    if (closed.getAsBoolean() || ownedTickets.isEmpty() || hubRetryTimer >= 0 || hub != null) {
      return;
    }
    long delay = hubRetryDelay;
    hubRetryDelay = Math.min(HUB_RETRY_MAX_MS, hubRetryDelay * 2);
    if (delay == HUB_RETRY_MIN_MS) {
      log.info("Lost the hub; reconnecting in the background to keep tickets {}", ownedTickets);
    }
    // Spread, so that the clients of a restarted hub do not all come back in the same millisecond.
    hubRetryTimer = vertx.setTimer(Jitter.spread(delay), t -> {
      hubRetryTimer = -1;
      if (closed.getAsBoolean() || hub != null) {
        return;
      }
      connection().onFailure(err -> keepSession());
    });
  }

  private void onMessage(Connection connection, Frame frame) {
    try {
      if (frame.bodyType() == Body.ActorEvent && frame.id() == 0) {
        ActorInfo info = HubClientCodec.readActorEvent(frame);
        if (info != null) {
          actorEventHandler.handle(info);
        }
      } else if (frame.bodyType() == Body.TicketEvent && frame.id() == 0) {
        Allocation allocation = HubClientCodec.readTicketEvent(frame);
        if (allocation != null) {
          if (allocation.state() == TicketState.RELEASED) {
            ownedTickets.remove(allocation.ticketId());
          }
          Handler<Allocation> handler = ticketHandler();
          if (handler != null) {
            handler.handle(allocation);
          }
        }
      } else if (frame.id() != 0) {
        connection.replyError(frame.id(), ErrorCode.Protocol, "clients do not handle message type " + frame.bodyType());
      }
    } catch (RuntimeException e) {
      log.warn("Ignoring a malformed event from the hub: {}", e.getMessage());
    } finally {
      frame.release();
    }
  }

  /** Stops trying to reach a lost hub. */
  void cancelRetry() {
    if (hubRetryTimer >= 0) {
      vertx.cancelTimer(hubRetryTimer);
      hubRetryTimer = -1;
    }
  }

  /** Closes the hub connection, if open. */
  Future<Void> close() {
    return hub != null ? hub.close() : Future.succeededFuture();
  }
}
