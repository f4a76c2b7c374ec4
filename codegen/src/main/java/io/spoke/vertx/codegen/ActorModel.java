// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.codegen;

import io.vertx.codegen.processor.GenException;
import io.vertx.codegen.processor.Model;
import io.vertx.codegen.processor.ModuleInfo;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.Element;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.Modifier;
import javax.lang.model.element.TypeElement;
import javax.lang.model.util.ElementFilter;

/**
 * A {@code @SpokeActor} class, listed in the generated actor index so that agents can spawn it by name with
 * no hand-written registry entry. Checked at compile time: it must be a public, concrete subclass of
 * {@code Actor} with a public no-argument constructor.
 */
final class ActorModel implements Model {

  static final String KIND = "spoke_actor";

  private final ProcessingEnvironment env;
  private final TypeElement element;

  ActorModel(ProcessingEnvironment env, TypeElement element) {
    this.env = env;
    this.element = element;
  }

  @Override
  public boolean process() {
    TypeElement actor = env.getElementUtils().getTypeElement("io.spoke.vertx.actor.Actor");
    if (actor == null || !env.getTypeUtils().isSubtype(element.asType(), actor.asType())) {
      throw new GenException(element, "@SpokeActor class " + element.getSimpleName() + " must extend io.spoke.vertx.actor.Actor");
    }
    if (!element.getModifiers().contains(Modifier.PUBLIC) || element.getModifiers().contains(Modifier.ABSTRACT)) {
      throw new GenException(element, "@SpokeActor class " + element.getSimpleName() + " must be public and not abstract");
    }
    boolean noArgConstructor = false;
    for (ExecutableElement constructor : ElementFilter.constructorsIn(element.getEnclosedElements())) {
      if (constructor.getParameters().isEmpty() && constructor.getModifiers().contains(Modifier.PUBLIC)) {
        noArgConstructor = true;
      }
    }
    if (!noArgConstructor) {
      throw new GenException(element, "@SpokeActor class " + element.getSimpleName() + " needs a public no-argument constructor");
    }
    return true;
  }

  /** The name a class loader knows it by ({@code Outer$Inner} for nested classes). */
  String binaryName() {
    return env.getElementUtils().getBinaryName(element).toString();
  }

  @Override
  public String getKind() {
    return KIND;
  }

  @Override
  public Element getElement() {
    return element;
  }

  @Override
  public String getFqn() {
    return element.getQualifiedName().toString();
  }

  @Override
  public ModuleInfo getModule() {
    return null;
  }
}
