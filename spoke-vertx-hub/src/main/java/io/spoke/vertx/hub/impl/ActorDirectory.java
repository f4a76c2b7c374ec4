package io.spoke.vertx.hub.impl;

import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.internal.net.Connection;
import io.vertx.core.Future;

/** The hub's actors, as the ticket desk starts, stops and looks them up: implemented by {@link HubServer}. */
interface ActorDirectory {

  /** Replies DuplicateActor to {@code client} and returns true when {@code actorId} is taken. */
  boolean refuseDuplicate(Connection client, long requestId, String actorId);

  /**
   * Records a starting actor and asks its node's agent to start it; answers {@code client} when the actor is
   * listening, or forgets it and answers with the failure (after running {@code launch}'s {@code onFailure}).
   */
  void startActor(Connection client, ClientSession session, long requestId, ActorRecord record, NodeRecord node, ActorLaunch launch);

  /** Asks the actor's agent to stop it; completes when it has exited. */
  Future<Void> stopActor(ActorRecord record);

  /** What the hub knows of an actor, running or recently exited; null if nothing. */
  ActorInfo actorInfo(String actorId);
}
