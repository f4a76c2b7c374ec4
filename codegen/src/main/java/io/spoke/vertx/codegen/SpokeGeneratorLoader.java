// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.codegen;

import io.vertx.codegen.processor.Generator;
import io.vertx.codegen.processor.GeneratorLoader;
import java.util.stream.Stream;
import javax.annotation.processing.ProcessingEnvironment;

/** Plugs Spoke's generators into Vert.x codegen (META-INF/services/io.vertx.codegen.processor.GeneratorLoader). */
public final class SpokeGeneratorLoader implements GeneratorLoader {

  @Override
  public Stream<Generator<?>> loadGenerators(ProcessingEnvironment processingEnv) {
    return Stream.of(new CodecGenerator(), new ProxyGenerator(), new DispatcherGenerator(), new ActorIndexGenerator());
  }
}
