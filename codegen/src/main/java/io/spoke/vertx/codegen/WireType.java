// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.codegen;

/**
 * A Java type that Spoke can put on the wire, and the code that writes and reads it with
 * {@code io.spoke.vertx.service.Wire} and {@code WireReader}. Complex types (collections, records, boxes,
 * FlatBuffers tables) write and read through helper methods of the generated codec class, which
 * {@link Codec} collects.
 */
abstract class WireType {

  /** The type as Java source, e.g. {@code java.util.List<java.lang.String>}. */
  final String source;

  WireType(String source) {
    this.source = source;
  }

  /** Whether values read refer to the payload's memory (so a client must read from a copy). */
  abstract boolean view();

  /** Statements writing {@code value} (an expression evaluated once) to the {@code ByteBuf} named {@code out}. */
  abstract void write(SourceWriter w, Codec codec, String out, String value);

  /** An expression reading one value from the {@code WireReader} named {@code in}. */
  abstract String read(Codec codec, String in);

  /** A type written by one {@code Wire.writeX(out, value)} and read by one {@code in.readX()}. */
  static final class Simple extends WireType {

    private final String writer;
    private final String reader;
    private final boolean view;

    Simple(String source, String writer, String reader, boolean view) {
      super(source);
      this.writer = writer;
      this.reader = reader;
      this.view = view;
    }

    @Override
    boolean view() {
      return view;
    }

    @Override
    void write(SourceWriter w, Codec codec, String out, String value) {
      w.line("Wire." + writer + "(" + out + ", " + value + ");");
    }

    @Override
    String read(Codec codec, String in) {
      return in + "." + reader + "()";
    }
  }

  /** An enum, by constant name. */
  static final class EnumType extends WireType {

    EnumType(String source) {
      super(source);
    }

    @Override
    boolean view() {
      return false;
    }

    @Override
    void write(SourceWriter w, Codec codec, String out, String value) {
      w.line("Wire.writeEnum(" + out + ", " + value + ");");
    }

    @Override
    String read(Codec codec, String in) {
      return in + ".readEnum(" + source + ".class)";
    }
  }

  /** {@code Future<Void>}: nothing on the wire. */
  static final class VoidType extends WireType {

    VoidType() {
      super("java.lang.Void");
    }

    @Override
    boolean view() {
      return false;
    }

    @Override
    void write(SourceWriter w, Codec codec, String out, String value) {
    }

    @Override
    String read(Codec codec, String in) {
      return "null";
    }
  }

  /** Types written through helper methods of the codec: subclasses give the helpers' bodies. */
  abstract static class Helped extends WireType {

    Helped(String source) {
      super(source);
    }

    /** A stable key: the same type gets the same helpers. */
    String key() {
      return source;
    }

    /** The body of {@code static void write_N(ByteBuf out, T value)}. */
    abstract void writeBody(SourceWriter w, Codec codec);

    /** The body of {@code static T read_N(WireReader in)}. */
    abstract void readBody(SourceWriter w, Codec codec);

    @Override
    void write(SourceWriter w, Codec codec, String out, String value) {
      w.line(codec.helper(this) + ".write(" + out + ", " + value + ");");
    }

    @Override
    String read(Codec codec, String in) {
      return codec.helper(this) + ".read(" + in + ")";
    }
  }

  /** A boxed primitive: a presence byte, then the primitive. */
  static final class Boxed extends Helped {

    private final WireType primitive;

    Boxed(String source, WireType primitive) {
      super(source);
      this.primitive = primitive;
    }

    @Override
    boolean view() {
      return false;
    }

    @Override
    void writeBody(SourceWriter w, Codec codec) {
      w.line("Wire.writePresent(out, value != null);");
      w.open("if (value != null) {");
      primitive.write(w, codec, "out", "value");
      w.close("}");
    }

    @Override
    void readBody(SourceWriter w, Codec codec) {
      w.line("return in.readPresent() ? " + source + ".valueOf(" + primitive.read(codec, "in") + ") : null;");
    }
  }

  /** A FlatBuffers table: its bytes, read in place with its generated root accessor. */
  static final class Table extends Helped {

    private final String rootAccessor;

    Table(String source, String rootAccessor) {
      super(source);
      this.rootAccessor = rootAccessor;
    }

    @Override
    boolean view() {
      return true;
    }

    @Override
    void writeBody(SourceWriter w, Codec codec) {
      w.line("Wire.writeTable(out, value);");
    }

    @Override
    void readBody(SourceWriter w, Codec codec) {
      w.line("java.nio.ByteBuffer bytes = in.readTableBytes();");
      w.line("return bytes == null ? null : " + source + "." + rootAccessor + "(bytes);");
    }
  }

  /** {@code List<E>} or {@code Set<E>}: a size, then the elements. */
  static final class Collection extends Helped {

    private final String implementation;
    private final WireType element;

    Collection(String source, String implementation, WireType element) {
      super(source);
      this.implementation = implementation;
      this.element = element;
    }

    @Override
    boolean view() {
      return element.view();
    }

    @Override
    void writeBody(SourceWriter w, Codec codec) {
      w.line("Wire.writeSize(out, value);");
      w.open("if (value != null) {");
      w.open("for (" + element.source + " element : value) {");
      element.write(w, codec, "out", "element");
      w.close("}");
      w.close("}");
    }

    @Override
    void readBody(SourceWriter w, Codec codec) {
      w.line("int size = in.readNullableSize();");
      w.open("if (size < 0) {");
      w.line("return null;");
      w.close("}");
      w.line(source + " value = new " + implementation + "<>(" + (implementation.endsWith("ArrayList") ? "size" : "Math.max(16, size * 2)")
        + ");");
      w.open("for (int i = 0; i < size; i++) {");
      w.line("value.add(" + element.read(codec, "in") + ");");
      w.close("}");
      w.line("return value;");
    }
  }

  /** {@code Map<K, V>}: a size, then keys and values in turn; read into a {@code LinkedHashMap}. */
  static final class MapType extends Helped {

    private final WireType key;
    private final WireType value;

    MapType(String source, WireType key, WireType value) {
      super(source);
      this.key = key;
      this.value = value;
    }

    @Override
    boolean view() {
      return key.view() || value.view();
    }

    @Override
    void writeBody(SourceWriter w, Codec codec) {
      w.line("Wire.writeSize(out, value);");
      w.open("if (value != null) {");
      w.open("for (java.util.Map.Entry<" + key.source + ", " + this.value.source + "> entry : value.entrySet()) {");
      key.write(w, codec, "out", "entry.getKey()");
      this.value.write(w, codec, "out", "entry.getValue()");
      w.close("}");
      w.close("}");
    }

    @Override
    void readBody(SourceWriter w, Codec codec) {
      w.line("int size = in.readNullableSize();");
      w.open("if (size < 0) {");
      w.line("return null;");
      w.close("}");
      w.line(source + " value = new java.util.LinkedHashMap<>(Math.max(16, size * 2));");
      w.open("for (int i = 0; i < size; i++) {");
      w.line("value.put(" + key.read(codec, "in") + ", " + this.value.read(codec, "in") + ");");
      w.close("}");
      w.line("return value;");
    }
  }

  /** A record: a presence byte, then its components in declaration order; read through its canonical constructor. */
  static final class RecordType extends Helped {

    final java.util.List<String> componentNames = new java.util.ArrayList<>();
    final java.util.List<WireType> components = new java.util.ArrayList<>();

    RecordType(String source) {
      super(source);
    }

    @Override
    boolean view() {
      // Guards recursive records: a record is a view if any component is, looked at once.
      if (visiting) {
        return false;
      }
      visiting = true;
      try {
        return components.stream().anyMatch(WireType::view);
      } finally {
        visiting = false;
      }
    }

    private boolean visiting;

    @Override
    void writeBody(SourceWriter w, Codec codec) {
      w.line("Wire.writePresent(out, value != null);");
      w.open("if (value != null) {");
      for (int i = 0; i < components.size(); i++) {
        components.get(i).write(w, codec, "out", "value." + componentNames.get(i) + "()");
      }
      w.close("}");
    }

    @Override
    void readBody(SourceWriter w, Codec codec) {
      w.open("if (!in.readPresent()) {");
      w.line("return null;");
      w.close("}");
      for (int i = 0; i < components.size(); i++) {
        w.line(components.get(i).source + " " + componentNames.get(i) + " = " + components.get(i).read(codec, "in") + ";");
      }
      w.line("return new " + source + "(" + String.join(", ", componentNames) + ");");
    }
  }
}
