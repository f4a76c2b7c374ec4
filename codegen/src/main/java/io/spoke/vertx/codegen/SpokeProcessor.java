// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.codegen;

import io.vertx.codegen.processor.Processor;
import java.util.Set;
import javax.lang.model.SourceVersion;

/**
 * Spoke's annotation processor: Vert.x codegen's processor with Spoke's generators, declared for the Java
 * version being compiled (codegen's own declares 11, which javac 17 warns about). Registered in
 * META-INF/services/javax.annotation.processing.Processor, so a build finds it on the class path.
 */
public class SpokeProcessor extends Processor {

  @Override
  public SourceVersion getSupportedSourceVersion() {
    return SourceVersion.latestSupported();
  }

  @Override
  public Set<String> getSupportedOptions() {
    return Set.of("codegen.generators");
  }
}
