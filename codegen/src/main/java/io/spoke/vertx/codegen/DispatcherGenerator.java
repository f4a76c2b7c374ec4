// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.codegen;

import io.spoke.vertx.service.SpokeService;
import io.vertx.codegen.processor.Generator;
import java.lang.annotation.Annotation;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes {@code FooSpokeDispatcher}: registers every method of service {@code Foo} on an actor that
 * implements it, reading the arguments in place from the request and writing results into the reply.
 */
final class DispatcherGenerator extends Generator<ServiceModel> {

  DispatcherGenerator() {
    name = "spoke_dispatcher";
    kinds = Set.of(ServiceModel.KIND);
  }

  @Override
  public Collection<Class<? extends Annotation>> annotations() {
    return List.of(SpokeService.class);
  }

  @Override
  public String filename(ServiceModel model) {
    return model.packageName() + "." + model.simpleName() + "SpokeDispatcher.java";
  }

  @Override
  public String render(ServiceModel model, int index, int size, Map<String, Object> session) {
    String codec = CodecGenerator.className(model);
    String iface = model.simpleName();
    SourceWriter w = Headers.begin(model, List.of("io.spoke.vertx.service.ServiceDispatcher", "io.spoke.vertx.service.ServiceRegistry",
      "io.spoke.vertx.service.WireReader"));
    w.line("/**");
    w.line(" * Registers the methods of {@link " + iface + "} on an actor that implements it; an actor implementing the");
    w.line(" * service finds it by name when it starts. Arguments are read in place from the request frame.");
    w.line(" */");
    w.open("public final class " + iface + "SpokeDispatcher implements ServiceDispatcher<" + iface + "> {");
    w.blank();
    w.line("@Override");
    w.open("public void register(ServiceRegistry $registry, " + iface + " $impl) {");
    model.codec().qualifier(codec + ".");
    for (ServiceMethod m : model.methods()) {
      String id = codec + "." + m.constant();
      String register;
      switch (m.kind) {
        case CALL:
          register = "$registry.method(" + id + ", \"" + m.name + "\", $request -> {";
          break;
        case STREAM:
          register = "$registry.stream(" + id + ", \"" + m.name + "\", $request -> {";
          break;
        default:
          register = "$registry.oneWay(" + id + ", \"" + m.name + "\", $request -> {";
      }
      w.open(register);
      w.line("WireReader $in = WireReader.of($request.buffer());");
      for (int i = 0; i < m.paramNames.size(); i++) {
        WireType type = m.paramTypes.get(i);
        w.line(type.source + " " + m.paramNames.get(i) + " = " + type.read(model.codec(), "$in") + ";");
      }
      w.line("$in.end();");
      if (m.kind == ServiceMethod.Kind.ONE_WAY) {
        w.line("$impl." + m.name + "(" + m.arguments() + ");");
        w.line("return null;");
        w.close("});");
      } else {
        w.line("return $impl." + m.name + "(" + m.arguments() + ");");
        w.close("}, " + codec + "." + m.constant() + (m.kind == ServiceMethod.Kind.STREAM ? "_ITEM" : "_RESULT") + ");");
      }
    }
    w.close("}");
    w.close("}");
    return w.toString();
  }
}
