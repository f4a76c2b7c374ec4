// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.codegen;

import io.spoke.vertx.service.MethodId;
import io.spoke.vertx.service.MethodIds;
import io.vertx.codegen.processor.GenException;
import io.vertx.codegen.processor.Model;
import io.vertx.codegen.processor.ModuleInfo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.Modifier;
import javax.lang.model.element.TypeElement;
import javax.lang.model.element.VariableElement;
import javax.lang.model.type.DeclaredType;
import javax.lang.model.type.TypeKind;
import javax.lang.model.type.TypeMirror;
import javax.lang.model.util.ElementFilter;
import javax.lang.model.util.Elements;
import javax.lang.model.util.Types;

/**
 * A {@code @SpokeService} interface, read with {@code javax.lang.model} and checked when the model is built:
 * every rule broken is a compile error that names the method (and the type). Built on the interface's own
 * element rather than Vert.x codegen's ClassModel, whose type rules are those of the event bus.
 */
final class ServiceModel implements Model {

  static final String KIND = "spoke_service";

  private final ProcessingEnvironment env;
  private final TypeElement element;
  private final List<ServiceMethod> methods = new ArrayList<>();
  private final Codec codec = new Codec();
  private boolean processed;

  ServiceModel(ProcessingEnvironment env, TypeElement element) {
    this.env = env;
    this.element = element;
  }

  @Override
  public boolean process() {
    if (processed) {
      return false;
    }
    processed = true;
    if (element.getKind() != ElementKind.INTERFACE) {
      throw new GenException(element, "@SpokeService applies to interfaces; " + element.getSimpleName() + " is a "
        + element.getKind().name().toLowerCase());
    }
    if (!element.getTypeParameters().isEmpty()) {
      throw new GenException(element, "a @SpokeService interface cannot be generic");
    }
    Types types = env.getTypeUtils();
    Elements elements = env.getElementUtils();
    WireTypes wireTypes = new WireTypes(env);
    TypeMirror future = types.erasure(elements.getTypeElement("io.vertx.core.Future").asType());
    TypeMirror stream = types.erasure(elements.getTypeElement("io.vertx.core.streams.ReadStream").asType());
    Map<String, ExecutableElement> byName = new LinkedHashMap<>();
    Map<Integer, ServiceMethod> byId = new LinkedHashMap<>();
    for (ExecutableElement method : ElementFilter.methodsIn(elements.getAllMembers(element))) {
      Element owner = method.getEnclosingElement();
      if (owner.toString().equals("java.lang.Object") || !method.getModifiers().contains(Modifier.ABSTRACT)) {
        continue;
      }
      String name = method.getSimpleName().toString();
      ExecutableElement previous = byName.put(name, method);
      if (previous != null) {
        throw new GenException(method, "method " + name + " is overloaded; service methods need distinct names");
      }
      if (!method.getTypeParameters().isEmpty()) {
        throw new GenException(method, "method " + name + " is generic; service methods cannot have type parameters");
      }
      ServiceMethod m = method(method, types, wireTypes, future, stream);
      ServiceMethod clash = byId.put(m.id, m);
      if (clash != null) {
        throw new GenException(method, "methods " + clash.name + " and " + name + " have the same id 0x" + Integer.toHexString(m.id)
          + (m.explicitId || clash.explicitId ? " (set with @MethodId)" : " (derived from their signatures: give one of them a @MethodId)"));
      }
      methods.add(m);
    }
    // Writing the codec once names its helper classes, in a fixed order, for every generator that refers to them.
    CodecGenerator.render(this);
    return true;
  }

  /** The helper classes of this service's codec. */
  Codec codec() {
    return codec;
  }

  private ServiceMethod method(ExecutableElement method, Types types, WireTypes wireTypes, TypeMirror future, TypeMirror stream) {
    String name = method.getSimpleName().toString();
    List<String> names = new ArrayList<>();
    List<WireType> params = new ArrayList<>();
    StringBuilder signature = new StringBuilder(name).append('(');
    for (VariableElement param : method.getParameters()) {
      TypeMirror type = param.asType();
      try {
        params.add(wireTypes.of(type, false));
      } catch (WireTypes.Unsupported e) {
        throw new GenException(method, "method " + name + ": parameter '" + param.getSimpleName() + "' has type " + type
          + ", which Spoke cannot serialize: " + e.getMessage() + ". Supported: " + WireTypes.SUPPORTED);
      }
      names.add(param.getSimpleName().toString());
      if (signature.charAt(signature.length() - 1) != '(') {
        signature.append(',');
      }
      signature.append(types.erasure(type));
    }
    signature.append(')');

    TypeMirror returned = method.getReturnType();
    ServiceMethod.Kind kind;
    WireType result = null;
    if (returned.getKind() == TypeKind.VOID) {
      kind = ServiceMethod.Kind.ONE_WAY;
    } else {
      TypeMirror erased = types.erasure(returned);
      boolean isFuture = types.isSameType(erased, future);
      boolean isStream = types.isSameType(erased, stream);
      if (!isFuture && !isStream) {
        throw new GenException(method, "method " + name + " must return io.vertx.core.Future<T>, io.vertx.core.streams.ReadStream<T>"
          + " or void, not " + returned);
      }
      kind = isFuture ? ServiceMethod.Kind.CALL : ServiceMethod.Kind.STREAM;
      List<? extends TypeMirror> args = ((DeclaredType) returned).getTypeArguments();
      if (args.isEmpty() || args.get(0).getKind() == TypeKind.WILDCARD) {
        throw new GenException(method, "method " + name + " must give the exact type of its result, not " + returned);
      }
      try {
        result = wireTypes.of(args.get(0), isFuture);
      } catch (WireTypes.Unsupported e) {
        throw new GenException(method, "method " + name + ": its " + (isFuture ? "result" : "items") + " of type " + args.get(0)
          + " cannot be serialized by Spoke: " + e.getMessage() + ". Supported: " + WireTypes.SUPPORTED);
      }
    }
    MethodId explicit = method.getAnnotation(MethodId.class);
    int id = explicit != null ? explicit.value() : MethodIds.of(signature.toString());
    return new ServiceMethod(method, signature.toString(), id, explicit != null, kind, names, params, result, returned.toString());
  }

  List<ServiceMethod> methods() {
    return methods;
  }

  String packageName() {
    return env.getElementUtils().getPackageOf(element).getQualifiedName().toString();
  }

  String simpleName() {
    return element.getSimpleName().toString();
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
