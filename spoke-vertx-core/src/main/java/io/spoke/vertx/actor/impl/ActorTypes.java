package io.spoke.vertx.actor.impl;

import io.spoke.vertx.ActorTypeNotFoundException;
import io.spoke.vertx.actor.Actor;
import io.spoke.vertx.actor.SpokeActor;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The actor types a class loader offers: classes listed in {@code META-INF/services/io.spoke.vertx.actor.Actor},
 * by their {@link SpokeActor} name (or simple class name), plus any actor class by its fully qualified name.
 */
public final class ActorTypes {

  private final ClassLoader loader;
  private final Map<String, Class<? extends Actor>> byName = new TreeMap<>();

  public ActorTypes(ClassLoader loader) {
    this.loader = loader;
    for (ServiceLoader.Provider<Actor> provider : ServiceLoader.load(Actor.class, loader).stream()
      .toArray(ServiceLoader.Provider[]::new)) {
      Class<? extends Actor> type = provider.type();
      byName.putIfAbsent(nameOf(type), type);
    }
  }

  /** The name an actor class is known by. */
  public static String nameOf(Class<?> type) {
    SpokeActor annotation = type.getAnnotation(SpokeActor.class);
    return annotation != null ? annotation.value() : type.getSimpleName();
  }

  /** Registered type names, sorted. */
  public Iterable<String> names() {
    return byName.keySet();
  }

  /**
   * The class of type {@code name}.
   *
   * @throws ActorTypeNotFoundException listing the known types
   */
  public Class<? extends Actor> find(String name) {
    Class<? extends Actor> type = byName.get(name);
    if (type != null) {
      return type;
    }
    if (name.indexOf('.') > 0) {
      try {
        Class<?> candidate = Class.forName(name, false, loader);
        if (Actor.class.isAssignableFrom(candidate)) {
          return candidate.asSubclass(Actor.class);
        }
        throw new ActorTypeNotFoundException("class " + name + " is not an actor: it does not extend " + Actor.class.getName());
      } catch (ClassNotFoundException | LinkageError e) {
        // fall through to the message listing what is known
      }
    }
    throw new ActorTypeNotFoundException("unknown actor type '" + name + "'; known types: "
      + (byName.isEmpty() ? "none (list actor classes in META-INF/services/" + Actor.class.getName() + ")" : String.join(", ", byName.keySet()))
      + ". Register the class with @SpokeActor and META-INF/services, or give its fully qualified name");
  }

  /** A new instance of type {@code name}. */
  public Actor create(String name) throws ReflectiveOperationException {
    try {
      return find(name).getDeclaredConstructor().newInstance();
    } catch (ServiceConfigurationError e) {
      throw new ActorTypeNotFoundException("cannot load actor type '" + name + "': " + e.getMessage());
    }
  }
}
