// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor.impl;

import io.spoke.vertx.service.SpokeService;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.Set;

/** The {@link SpokeService} interfaces a class implements, directly or through superclasses and superinterfaces. */
public final class ServiceInterfaces {

  private ServiceInterfaces() {
  }

  public static Set<Class<?>> of(Class<?> type) {
    Set<Class<?>> services = new LinkedHashSet<>();
    Deque<Class<?>> todo = new ArrayDeque<>();
    for (Class<?> c = type; c != null; c = c.getSuperclass()) {
      todo.add(c);
    }
    Set<Class<?>> seen = new LinkedHashSet<>();
    while (!todo.isEmpty()) {
      Class<?> c = todo.poll();
      if (!seen.add(c)) {
        continue;
      }
      if (c.isInterface() && c.isAnnotationPresent(SpokeService.class)) {
        services.add(c);
      }
      for (Class<?> i : c.getInterfaces()) {
        todo.add(i);
      }
    }
    return services;
  }
}
