// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.codegen;

import io.spoke.vertx.actor.SpokeActor;
import io.spoke.vertx.service.SpokeService;
import io.vertx.codegen.processor.Model;
import io.vertx.codegen.processor.ModelProvider;
import io.vertx.codegen.processor.type.TypeMirrorFactory;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.TypeElement;

/** Builds Spoke's models of annotated types (META-INF/services/io.vertx.codegen.processor.ModelProvider). */
public final class SpokeModelProvider implements ModelProvider {

  @Override
  public Model getModel(ProcessingEnvironment env, TypeMirrorFactory typeFactory, TypeElement element) {
    if (element.getAnnotation(SpokeService.class) != null) {
      return new ServiceModel(env, element);
    }
    if (element.getAnnotation(SpokeActor.class) != null) {
      return new ActorModel(env, element);
    }
    return null;
  }
}
