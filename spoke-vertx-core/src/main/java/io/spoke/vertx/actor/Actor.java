// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor;

import io.spoke.vertx.actor.impl.MethodRegistry;
import io.spoke.vertx.serialization.Serializer;
import io.spoke.vertx.service.ServiceDispatcher;
import io.spoke.vertx.service.ServiceRegistry;
import io.spoke.vertx.actor.impl.ServiceInterfaces;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import java.util.Objects;
import java.util.function.Function;

/**
 * Base class of actors: Spoke's {@code spoke::Actor}. Each actor runs in its own process (an actor host,
 * started by an agent), deployed there as a verticle; its methods are called by clients over a direct
 * connection, one at a time per event loop turn, on the actor's event loop, so actor state needs no locks.
 * <pre>
 * {@literal @}SpokeActor("MyActor")
 * public class MyActor extends Actor {
 *   {@literal @}Override
 *   protected void registerMethods() {
 *     registerMethod(0x01, request -&gt; "Hello from Spoke!");
 *   }
 * }
 * </pre>
 * Subclasses need a public no-argument constructor and a line in
 * {@code META-INF/services/io.spoke.vertx.actor.Actor} so that agents can find them by type name.
 * Constructor arguments given to {@code spawn} are in {@link ActorContext#args()}.
 */
public abstract class Actor extends VerticleBase {

  private ActorContext actorContext;

  /**
   * Binds the actor to its host before deployment. Called by the actor host; not for application use.
   */
  public final void bind(ActorContext context) {
    if (actorContext != null) {
      throw new IllegalStateException("actor already bound to " + actorContext.actorId());
    }
    this.actorContext = Objects.requireNonNull(context, "context");
  }

  /** The actor's identity, arguments and push channel. */
  public final ActorContext actorContext() {
    if (actorContext == null) {
      throw new IllegalStateException("this actor is not running in an actor host");
    }
    return actorContext;
  }

  /**
   * Registers this actor's methods; called once, on the actor's event loop, before {@link #onStart()}. By
   * default, {@link #registerServices()}: an actor that implements {@link io.spoke.vertx.service.SpokeService}
   * interfaces needs nothing more. Override it to register methods by hand (and call
   * {@code registerServices()} too if the actor also implements services).
   */
  protected void registerMethods() {
    registerServices();
  }

  /**
   * Registers, through their generated dispatchers ({@code FooSpokeDispatcher}), the methods of every
   * {@link io.spoke.vertx.service.SpokeService} interface this actor implements.
   *
   * @throws IllegalStateException if a dispatcher was not generated (the code generator did not run)
   */
  @SuppressWarnings("unchecked")
  protected final void registerServices() {
    for (Class<?> service : ServiceInterfaces.of(getClass())) {
      ServiceDispatcher<Object> dispatcher;
      String name = service.getName() + "SpokeDispatcher";
      try {
        dispatcher = (ServiceDispatcher<Object>) Class.forName(name, true, service.getClassLoader()).getDeclaredConstructor().newInstance();
      } catch (ReflectiveOperationException | ClassCastException e) {
        throw new IllegalStateException("no generated dispatcher " + name + " for service " + service.getName()
          + ": put spoke-vertx-codegen on the annotation processor path of the module that declares the service", e);
      }
      dispatcher.register((ServiceRegistry) registry(), this);
    }
  }

  /**
   * Called after {@link #registerMethods()}, before the actor is reported ready: the spawn completes only
   * when the returned future succeeds, and fails with its failure.
   */
  protected Future<?> onStart() {
    return Future.succeededFuture();
  }

  /** Called when the actor is stopped gracefully; the process exits when the returned future completes. */
  protected Future<?> onStop() {
    return Future.succeededFuture();
  }

  @Override
  public final Future<?> start() {
    MethodRegistry registry = registry();
    registry.starting(context);
    registerMethods();
    return onStart();
  }

  @Override
  public final Future<?> stop() {
    return onStop();
  }

  /**
   * Registers a method that runs on the actor's event loop and must not block it. The handler returns the
   * result (serialized by its runtime class) or a {@code Future} of it.
   *
   * @throws IllegalArgumentException if {@code methodId} is already registered
   */
  protected final void registerMethod(int methodId, MethodHandler handler) {
    registry().register(methodId, Objects.requireNonNull(handler, "handler"), false);
  }

  /**
   * Registers a method that may block (disk, a GPU kernel launch, a native library): it runs on the Vert.x
   * worker pool, never on the event loop. Its result is sent from the event loop.
   */
  protected final void registerBlockingMethod(int methodId, MethodHandler handler) {
    registry().register(methodId, Objects.requireNonNull(handler, "handler"), true);
  }

  /**
   * Registers a typed method: the request is decoded by {@code requestSerializer}, and the result written
   * by {@code responseSerializer} straight into the reply frame.
   */
  protected final <Q, R> void registerMethod(int methodId, Serializer<Q> requestSerializer, Serializer<R> responseSerializer,
                                             Function<Q, Future<R>> handler) {
    Objects.requireNonNull(requestSerializer, "requestSerializer");
    Objects.requireNonNull(responseSerializer, "responseSerializer");
    Objects.requireNonNull(handler, "handler");
    registry().register(methodId, request -> handler.apply(request.read(requestSerializer)), responseSerializer);
  }

  private MethodRegistry registry() {
    return (MethodRegistry) actorContext();
  }
}
