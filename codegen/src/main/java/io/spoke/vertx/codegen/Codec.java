// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.codegen;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Collects the helper classes a generated codec needs (one per collection, record, box or table type it
 * meets), named after the type they handle so the generated source reads well: {@code ListOfString},
 * {@code RecordPair}, {@code MapOfStringToInteger}.
 */
final class Codec {

  private final Map<String, String> names = new LinkedHashMap<>();
  private final Map<String, WireType.Helped> helpers = new LinkedHashMap<>();
  private final Set<String> taken = new HashSet<>();
  private String qualifier = "";

  /** How helper classes are named in the code being written: {@code ""} inside the codec class, else {@code "FooSpokeCodec."}. */
  void qualifier(String qualifier) {
    this.qualifier = qualifier;
  }

  /** A reference to the helper class of {@code type}, registering it on first use. */
  String helper(WireType.Helped type) {
    return qualifier + name(type);
  }

  private String name(WireType.Helped type) {
    String name = names.get(type.key());
    if (name == null) {
      String base = nameOf(type);
      name = base;
      for (int n = 2; !taken.add(name); n++) {
        name = base + n;
      }
      names.put(type.key(), name);
      helpers.put(name, type);
    }
    return name;
  }

  /** Writes every helper class; helpers may register more helpers while being written. */
  void writeHelpers(SourceWriter w) {
    qualifier = "";
    List<String> written = new ArrayList<>();
    while (written.size() < helpers.size()) {
      for (Map.Entry<String, WireType.Helped> entry : new ArrayList<>(helpers.entrySet())) {
        if (written.contains(entry.getKey())) {
          continue;
        }
        written.add(entry.getKey());
        WireType.Helped type = entry.getValue();
        w.blank();
        w.line("/** Writes and reads {@code " + type.source.replace("<", "&lt;").replace(">", "&gt;") + "}. */");
        w.open("static final class " + entry.getKey() + " {");
        w.blank();
        w.open("private " + entry.getKey() + "() {");
        w.close("}");
        w.blank();
        w.open("static void write(ByteBuf out, " + type.source + " value) {");
        type.writeBody(w, this);
        w.close("}");
        w.blank();
        w.open("static " + type.source + " read(WireReader in) {");
        type.readBody(w, this);
        w.close("}");
        w.close("}");
      }
    }
  }

  private static String nameOf(WireType type) {
    if (type instanceof WireType.RecordType) {
      return "Record" + simple(type.source);
    }
    if (type instanceof WireType.Table) {
      return "Table" + simple(type.source);
    }
    if (type instanceof WireType.Boxed) {
      return "Boxed" + simple(type.source);
    }
    return typeName(type.source);
  }

  /** {@code java.util.Map<java.lang.String,java.util.List<java.lang.Integer>>} to {@code MapOfStringToListOfInteger}. */
  static String typeName(String source) {
    String s = source.replace(" ", "");
    int lt = s.indexOf('<');
    if (lt < 0) {
      return s.equals("byte[]") ? "Bytes" : simple(s);
    }
    String raw = simple(s.substring(0, lt));
    List<String> args = splitArguments(s.substring(lt + 1, s.length() - 1));
    StringBuilder sb = new StringBuilder(raw).append("Of");
    for (int i = 0; i < args.size(); i++) {
      if (i > 0) {
        sb.append("To");
      }
      sb.append(typeName(args.get(i)));
    }
    return sb.toString();
  }

  private static List<String> splitArguments(String args) {
    List<String> parts = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < args.length(); i++) {
      char c = args.charAt(i);
      if (c == '<') {
        depth++;
      } else if (c == '>') {
        depth--;
      } else if (c == ',' && depth == 0) {
        parts.add(args.substring(start, i));
        start = i + 1;
      }
    }
    parts.add(args.substring(start));
    return parts;
  }

  private static String simple(String qualified) {
    String s = qualified.replace("[]", "Array");
    return s.substring(s.lastIndexOf('.') + 1);
  }
}
