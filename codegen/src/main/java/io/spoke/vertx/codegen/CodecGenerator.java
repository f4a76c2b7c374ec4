// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.codegen;

import io.spoke.vertx.service.MethodId;
import io.spoke.vertx.service.SpokeService;
import io.vertx.codegen.processor.Generator;
import java.lang.annotation.Annotation;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes {@code FooSpokeCodec}: the method ids of service {@code Foo}, and how its arguments and results go
 * on the wire, shared by the proxy and the dispatcher.
 */
final class CodecGenerator extends Generator<ServiceModel> {

  CodecGenerator() {
    name = "spoke_codec";
    kinds = Set.of(ServiceModel.KIND);
  }

  @Override
  public Collection<Class<? extends Annotation>> annotations() {
    // MethodId is read from the service model; claimed here so that javac does not warn it went unprocessed.
    return List.of(SpokeService.class, MethodId.class);
  }

  static String className(ServiceModel model) {
    return model.simpleName() + "SpokeCodec";
  }

  @Override
  public String filename(ServiceModel model) {
    return model.packageName() + "." + className(model) + ".java";
  }

  @Override
  public String render(ServiceModel model, int index, int size, Map<String, Object> session) {
    return render(model);
  }

  static String render(ServiceModel model) {
    Codec codec = model.codec();
    codec.qualifier("");
    SourceWriter w = Headers.begin(model, List.of("io.netty.buffer.ByteBuf", "io.spoke.vertx.serialization.Serializer",
      "io.spoke.vertx.service.Wire", "io.spoke.vertx.service.WireReader", "io.vertx.core.buffer.Buffer"));
    w.line("/**");
    w.line(" * How the methods of {@link " + model.simpleName() + "} put their arguments and results on the wire: their ids,");
    w.line(" * argument writers and result serializers, shared by {@link " + model.simpleName() + "SpokeProxy} and");
    w.line(" * {@link " + model.simpleName() + "SpokeDispatcher}. Nothing here uses reflection.");
    w.line(" */");
    w.open("final class " + className(model) + " {");
    for (ServiceMethod m : model.methods()) {
      w.blank();
      w.line("/** {@code " + m.signature + "}" + (m.explicitId ? ", id set with {@code @MethodId}" : "") + ". */");
      w.line("static final int " + m.constant() + " = 0x" + Integer.toHexString(m.id) + ";");
    }
    w.blank();
    w.open("private " + className(model) + "() {");
    w.close("}");
    for (ServiceMethod m : model.methods()) {
      w.blank();
      w.line("/** Writes the arguments of {@code " + m.name + "}. */");
      w.open("static void write" + m.capitalized() + "Args(ByteBuf out" + (m.paramNames.isEmpty() ? "" : ", " + m.parameters()) + ") {");
      for (int i = 0; i < m.paramNames.size(); i++) {
        m.paramTypes.get(i).write(w, codec, "out", m.paramNames.get(i));
      }
      w.close("}");
      if (m.result != null) {
        w.blank();
        String what = m.kind == ServiceMethod.Kind.STREAM ? "ITEM" : "RESULT";
        w.line("/** The " + (m.kind == ServiceMethod.Kind.STREAM ? "items" : "result") + " of {@code " + m.name + "}. */");
        String type = m.result.source;
        w.open("static final Serializer<" + type + "> " + m.constant() + "_" + what + " = new Serializer<>() {");
        w.line("@Override");
        w.open("public void write(" + type + " value, Buffer buffer) {");
        if (!(m.result instanceof WireType.VoidType)) {
          w.line("ByteBuf out = Wire.out(buffer);");
          m.result.write(w, codec, "out", "value");
        }
        w.close("}");
        w.blank();
        w.line("@Override");
        w.open("public " + type + " read(Buffer view) {");
        w.line("WireReader in = WireReader.of(view);");
        w.line(type + " value = " + m.result.read(codec, "in") + ";");
        w.line("in.end();");
        w.line("return value;");
        w.close("}");
        w.blank();
        w.line("@Override");
        w.open("public boolean readsView() {");
        w.line("return " + m.result.view() + ";");
        w.close("}");
        w.close("};");
      }
    }
    codec.writeHelpers(w);
    w.close("}");
    return w.toString();
  }
}
