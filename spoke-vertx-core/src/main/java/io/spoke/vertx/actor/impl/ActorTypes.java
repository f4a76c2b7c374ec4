// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor.impl;

import io.spoke.vertx.ActorTypeNotFoundException;
import io.spoke.vertx.actor.Actor;
import io.spoke.vertx.actor.SpokeActor;
import io.spoke.vertx.internal.ActorIndex;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Iterator;
import java.util.Map;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.TreeMap;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The actor types a class loader offers: classes listed in {@code META-INF/services/io.spoke.vertx.actor.Actor},
 * by their {@link SpokeActor} name (or simple class name), plus any actor class by its fully qualified name.
 */
public final class ActorTypes {

  private static final Logger log = LogManager.getLogger(ActorTypes.class);

  private final ClassLoader loader;
  private final Map<String, Class<? extends Actor>> byName = new TreeMap<>();

  public ActorTypes(ClassLoader loader) {
    this.loader = loader;
    Iterator<ServiceLoader.Provider<Actor>> providers = ServiceLoader.load(Actor.class, loader).stream().iterator();
    while (true) {
      try {
        if (!providers.hasNext()) {
          break;
        }
        Class<? extends Actor> type = providers.next().type();
        byName.putIfAbsent(nameOf(type), type);
      } catch (ServiceConfigurationError e) {
        // One broken entry (a class removed, a typo) must not hide every other actor type.
        log.warn("Skipping an actor type listed in META-INF/services/{}: {}", Actor.class.getName(), e.getMessage());
      }
    }
    try {
      for (URL index : Collections.list(loader.getResources(ActorIndex.PATH))) {
        try (InputStream in = index.openStream()) {
          for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\\R")) {
            String className = line.trim();
            if (!className.isEmpty() && !className.startsWith("#")) {
              Class<?> type = Class.forName(className, false, loader);
              if (Actor.class.isAssignableFrom(type)) {
                byName.putIfAbsent(nameOf(type), type.asSubclass(Actor.class));
              }
            }
          }
        }
      }
    } catch (IOException | ClassNotFoundException | LinkageError e) {
      throw new ActorTypeNotFoundException("cannot read the actor index " + ActorIndex.PATH + ": " + e);
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
