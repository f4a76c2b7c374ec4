// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.codegen;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.annotation.processing.ProcessingEnvironment;
import javax.lang.model.element.Element;
import javax.lang.model.element.ElementKind;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.Modifier;
import javax.lang.model.element.RecordComponentElement;
import javax.lang.model.element.TypeElement;
import javax.lang.model.type.ArrayType;
import javax.lang.model.type.DeclaredType;
import javax.lang.model.type.TypeKind;
import javax.lang.model.type.TypeMirror;
import javax.lang.model.util.ElementFilter;
import javax.lang.model.util.Elements;
import javax.lang.model.util.Types;

/**
 * Decides, at compile time, how a Java type goes on the wire: the supported types map to a {@link WireType};
 * anything else is refused with {@link Unsupported}, whose message says what is supported.
 */
final class WireTypes {

  static final String SUPPORTED = "primitives and their boxes, String, byte[], io.vertx.core.buffer.Buffer, java.nio.ByteBuffer,"
    + " FlatBuffers tables, enums, io.vertx.core.json.JsonObject, io.vertx.core.json.JsonArray, records of supported types, and"
    + " java.util.List, Set and Map of supported types";

  /** A type Spoke cannot put on the wire; the message says why. */
  static final class Unsupported extends Exception {

    private static final long serialVersionUID = 1L;

    Unsupported(String message) {
      super(message, null, false, false);
    }
  }

  private final Types types;
  private final Elements elements;
  private final Map<String, WireType.RecordType> records = new HashMap<>();
  private final TypeMirror table;

  WireTypes(ProcessingEnvironment env) {
    this.types = env.getTypeUtils();
    this.elements = env.getElementUtils();
    TypeElement tableElement = elements.getTypeElement("com.google.flatbuffers.Table");
    this.table = tableElement == null ? null : tableElement.asType();
  }

  /** The wire form of {@code type}; {@code Void} only where {@code voidAllowed} (a {@code Future<Void>}). */
  WireType of(TypeMirror type, boolean voidAllowed) throws Unsupported {
    switch (type.getKind()) {
      case BOOLEAN:
        return new WireType.Simple("boolean", "writeBoolean", "readBoolean", false);
      case BYTE:
        return new WireType.Simple("byte", "writeByte", "readByte", false);
      case SHORT:
        return new WireType.Simple("short", "writeShort", "readShort", false);
      case CHAR:
        return new WireType.Simple("char", "writeChar", "readChar", false);
      case INT:
        return new WireType.Simple("int", "writeInt", "readInt", false);
      case LONG:
        return new WireType.Simple("long", "writeLong", "readLong", false);
      case FLOAT:
        return new WireType.Simple("float", "writeFloat", "readFloat", false);
      case DOUBLE:
        return new WireType.Simple("double", "writeDouble", "readDouble", false);
      case ARRAY:
        if (((ArrayType) type).getComponentType().getKind() == TypeKind.BYTE) {
          return new WireType.Simple("byte[]", "writeBytes", "readBytes", false);
        }
        throw new Unsupported("arrays other than byte[] are not supported: use a java.util.List");
      case DECLARED:
        return declared((DeclaredType) type, voidAllowed);
      default:
        throw new Unsupported("only concrete types are supported, not " + type.getKind().name().toLowerCase());
    }
  }

  private WireType declared(DeclaredType type, boolean voidAllowed) throws Unsupported {
    TypeElement element = (TypeElement) type.asElement();
    String name = element.getQualifiedName().toString();
    switch (name) {
      case "java.lang.String":
        return new WireType.Simple(name, "writeString", "readString", false);
      case "io.vertx.core.buffer.Buffer":
        return new WireType.Simple(name, "writeBuffer", "readBuffer", true);
      case "java.nio.ByteBuffer":
        return new WireType.Simple(name, "writeByteBuffer", "readByteBuffer", true);
      case "io.vertx.core.json.JsonObject":
        return new WireType.Simple(name, "writeJsonObject", "readJsonObject", false);
      case "io.vertx.core.json.JsonArray":
        return new WireType.Simple(name, "writeJsonArray", "readJsonArray", false);
      case "java.lang.Void":
        if (voidAllowed) {
          return new WireType.VoidType();
        }
        throw new Unsupported("Void is only allowed as the result of a Future<Void>");
      case "java.lang.Boolean":
      case "java.lang.Byte":
      case "java.lang.Short":
      case "java.lang.Character":
      case "java.lang.Integer":
      case "java.lang.Long":
      case "java.lang.Float":
      case "java.lang.Double":
        return new WireType.Boxed(name, of(types.unboxedType(type), false));
      case "java.util.List":
      case "java.util.Set":
        return new WireType.Collection(type.toString(), name.equals("java.util.List") ? "java.util.ArrayList" : "java.util.LinkedHashSet",
          typeArgument(type, 0, name));
      case "java.util.Map":
        return new WireType.MapType(type.toString(), typeArgument(type, 0, name), typeArgument(type, 1, name));
      default:
        break;
    }
    if (element.getKind() == ElementKind.ENUM) {
      return new WireType.EnumType(name);
    }
    if (element.getKind() == ElementKind.RECORD) {
      return record(type, element);
    }
    if (table != null && types.isSubtype(types.erasure(type), types.erasure(table))) {
      return flatBuffersTable(element);
    }
    if (name.startsWith("java.util.") && (name.endsWith("List") || name.endsWith("Set") || name.endsWith("Map"))) {
      throw new Unsupported(name + " is not supported: declare java.util.List, java.util.Set or java.util.Map");
    }
    throw new Unsupported(name + " is not supported");
  }

  private WireType typeArgument(DeclaredType type, int index, String name) throws Unsupported {
    List<? extends TypeMirror> args = type.getTypeArguments();
    if (args.size() <= index) {
      throw new Unsupported("raw " + name + " is not supported: give its type arguments");
    }
    TypeMirror arg = args.get(index);
    if (arg.getKind() == TypeKind.WILDCARD) {
      throw new Unsupported("wildcards (" + type + ") are not supported: give exact type arguments");
    }
    return of(arg, false);
  }

  private WireType record(DeclaredType type, TypeElement element) throws Unsupported {
    String name = element.getQualifiedName().toString();
    if (!element.getTypeParameters().isEmpty()) {
      throw new Unsupported("generic record " + name + " is not supported");
    }
    if (!element.getModifiers().contains(Modifier.PUBLIC)) {
      throw new Unsupported("record " + name + " must be public: generated code in other classes creates it");
    }
    WireType.RecordType known = records.get(name);
    if (known != null) {
      return known;
    }
    WireType.RecordType record = new WireType.RecordType(element.getQualifiedName().toString());
    records.put(name, record);
    for (RecordComponentElement component : element.getRecordComponents()) {
      try {
        record.components.add(of(component.asType(), false));
      } catch (Unsupported e) {
        records.remove(name);
        throw new Unsupported("component '" + component.getSimpleName() + "' of record " + name + ": " + e.getMessage());
      }
      record.componentNames.add(component.getSimpleName().toString());
    }
    return record;
  }

  private WireType flatBuffersTable(TypeElement element) throws Unsupported {
    String simple = element.getSimpleName().toString();
    String accessor = "getRootAs" + simple;
    for (ExecutableElement method : ElementFilter.methodsIn(element.getEnclosedElements())) {
      if (method.getSimpleName().contentEquals(accessor) && method.getModifiers().contains(Modifier.STATIC)
        && method.getModifiers().contains(Modifier.PUBLIC) && method.getParameters().size() == 1
        && method.getParameters().get(0).asType().toString().equals("java.nio.ByteBuffer")) {
        return new WireType.Table(element.getQualifiedName().toString(), accessor);
      }
    }
    throw new Unsupported("FlatBuffers table " + element.getQualifiedName() + " has no public static " + accessor
      + "(java.nio.ByteBuffer): is it a root table generated by flatc?");
  }

  /** The element a type names, for messages. */
  static String describe(Element element) {
    return element.getEnclosingElement() + "#" + element;
  }
}
