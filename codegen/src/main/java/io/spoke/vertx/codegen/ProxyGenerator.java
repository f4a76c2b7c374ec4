// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.codegen;

import io.spoke.vertx.service.SpokeService;
import io.vertx.codegen.processor.Generator;
import java.lang.annotation.Annotation;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Writes {@code FooSpokeProxy}: service {@code Foo} implemented by calling an actor through a {@code SpokeClient}. */
final class ProxyGenerator extends Generator<ServiceModel> {

  ProxyGenerator() {
    name = "spoke_proxy";
    kinds = Set.of(ServiceModel.KIND);
  }

  @Override
  public Collection<Class<? extends Annotation>> annotations() {
    return List.of(SpokeService.class);
  }

  @Override
  public String filename(ServiceModel model) {
    return model.packageName() + "." + model.simpleName() + "SpokeProxy.java";
  }

  @Override
  public String render(ServiceModel model, int index, int size, Map<String, Object> session) {
    String codec = CodecGenerator.className(model);
    String iface = model.simpleName();
    String proxy = iface + "SpokeProxy";
    SourceWriter w = Headers.begin(model, List.of("io.spoke.vertx.client.SpokeClient", "io.spoke.vertx.service.Payload",
      "java.util.Objects"));
    w.line("/**");
    w.line(" * Client proxy of {@link " + iface + "}: each method calls the actor given at construction, through a");
    w.line(" * {@link SpokeClient}, with the arguments written straight into the request frame. Cheap to create; holds");
    w.line(" * no connection of its own. Void methods are fire and forget: nothing reports what became of them.");
    w.line(" */");
    w.open("public class " + proxy + " implements " + iface + " {");
    w.blank();
    w.line("private final SpokeClient client;");
    w.line("private final String actorId;");
    w.blank();
    w.line("/** A proxy of actor {@code actorId}, which must implement {@link " + iface + "}. */");
    w.open("public " + proxy + "(SpokeClient client, String actorId) {");
    w.line("this.client = Objects.requireNonNull(client, \"client\");");
    w.line("this.actorId = Objects.requireNonNull(actorId, \"actorId\");");
    w.close("}");
    model.codec().qualifier(codec + ".");
    for (ServiceMethod m : model.methods()) {
      w.blank();
      w.line("@Override");
      w.open("public " + m.returnSource + " " + m.name + "(" + m.parameters() + ") {");
      String payload = "(Payload) $out -> " + codec + ".write" + m.capitalized() + "Args($out" + (m.paramNames.isEmpty() ? "" : ", "
        + m.arguments()) + ")";
      String id = codec + "." + m.constant();
      switch (m.kind) {
        case CALL:
          w.line("return client.call(actorId, " + id + ",");
          w.line("  " + payload + ",");
          w.line("  Payload.SERIALIZER, " + codec + "." + m.constant() + "_RESULT);");
          break;
        case STREAM:
          w.line("return client.callStream(actorId, " + id + ",");
          w.line("  " + payload + ",");
          w.line("  Payload.SERIALIZER, " + codec + "." + m.constant() + "_ITEM);");
          break;
        default:
          w.line("client.send(actorId, " + id + ",");
          w.line("  " + payload + ",");
          w.line("  Payload.SERIALIZER);");
      }
      w.close("}");
    }
    w.blank();
    w.line("@Override");
    w.open("public String toString() {");
    w.line("return \"" + proxy + "[\" + actorId + \"]\";");
    w.close("}");
    w.close("}");
    return w.toString();
  }
}
