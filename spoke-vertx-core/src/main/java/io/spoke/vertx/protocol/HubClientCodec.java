package io.spoke.vertx.protocol;

/**
 * The messages between a client and the hub: the client's requests (spawn, gang, launch, release, tickets, logs,
 * stop, resolve, status) and the hub's answers and events (actor and ticket events).
 */
public final class HubClientCodec {

  private HubClientCodec() {
  }

  // ---------------------------------------------------------------- written by the client, read by the hub

  // ---------------------------------------------------------------- written by the hub, read by the client
}
