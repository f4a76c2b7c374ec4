// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.codegen;

import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.service.MethodIds;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The processor run by javac on fixture sources: what it generates from good services and actors, and the
 * compile error (message and line) each broken rule gives.
 */
class ProcessorTest {

  @TempDir
  Path dir;

  /** The outcome of one compilation. */
  final class Result {

    final boolean success;
    final List<Diagnostic<? extends JavaFileObject>> diagnostics;

    Result(boolean success, List<Diagnostic<? extends JavaFileObject>> diagnostics) {
      this.success = success;
      this.diagnostics = diagnostics;
    }

    List<String> errors() {
      return diagnostics.stream().filter(d -> d.getKind() == Diagnostic.Kind.ERROR).map(d -> d.getMessage(Locale.ROOT))
        .collect(Collectors.toList());
    }

    /** The lines of the fixture the errors point at. */
    List<Long> errorLines() {
      return diagnostics.stream().filter(d -> d.getKind() == Diagnostic.Kind.ERROR && d.getSource() != null)
        .map(Diagnostic::getLineNumber).collect(Collectors.toList());
    }

    String generated(String path) throws IOException {
      return Files.readString(dir.resolve("generated").resolve(path));
    }

    ClassLoader classes() throws IOException {
      return new URLClassLoader(new URL[] {dir.resolve("classes").toUri().toURL()}, ProcessorTest.class.getClassLoader());
    }
  }

  private Result compile(Map<String, String> sources) throws IOException {
    Path src = dir.resolve("src");
    Files.createDirectories(dir.resolve("classes"));
    Files.createDirectories(dir.resolve("generated"));
    List<Path> files = new ArrayList<>();
    for (Map.Entry<String, String> e : sources.entrySet()) {
      Path file = src.resolve(e.getKey());
      Files.createDirectories(file.getParent());
      Files.writeString(file, e.getValue());
      files.add(file);
    }
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    try (StandardJavaFileManager fm = javac.getStandardFileManager(diagnostics, Locale.ROOT, null)) {
      List<String> options = List.of("-d", dir.resolve("classes").toString(), "-s", dir.resolve("generated").toString(),
        "-classpath", System.getProperty("java.class.path"), "-processor", SpokeProcessor.class.getName(), "-Xlint:all", "-Werror");
      boolean ok = javac.getTask(null, fm, diagnostics, options, null, fm.getJavaFileObjectsFromPaths(files)).call();
      return new Result(ok, diagnostics.getDiagnostics());
    }
  }

  private Result compileService(String body) throws IOException {
    return compile(Map.of("com/acme/Svc.java", "package com.acme;\n"
      + "import io.spoke.vertx.service.*;\n"
      + "import io.vertx.core.Future;\n"
      + "import io.vertx.core.streams.ReadStream;\n"
      + "import java.util.*;\n"
      + "@SpokeService\n"
      + "public interface Svc {\n"
      + body
      + "}\n"));
  }

  static final String GOOD = "package com.acme;\n"
    + "import io.spoke.vertx.client.SpokeClient;\n"
    + "import io.spoke.vertx.service.*;\n"
    + "import io.vertx.core.Future;\n"
    + "import io.vertx.core.buffer.Buffer;\n"
    + "import io.vertx.core.json.JsonObject;\n"
    + "import io.vertx.core.streams.ReadStream;\n"
    + "import java.nio.ByteBuffer;\n"
    + "import java.util.*;\n"
    + "@SpokeService\n"
    + "public interface Translator {\n"
    + "  static Translator createProxy(SpokeClient client, String actorId) {\n"
    + "    return new TranslatorSpokeProxy(client, actorId);\n"
    + "  }\n"
    + "  enum Language { EN, FR }\n"
    + "  record Pair(String word, int count, List<Pair> children) {}\n"
    + "  Future<String> translate(String text, Language to);\n"
    + "  Future<Map<String, List<Integer>>> histogram(List<Pair> pairs, Integer maybe, Set<Language> languages);\n"
    + "  Future<Buffer> raw(byte[] bytes, Buffer buffer, ByteBuffer nio, JsonObject json, long l, double d, boolean b, char c);\n"
    + "  ReadStream<String> tokens(String prompt);\n"
    + "  void log(String line);\n"
    + "  @MethodId(0x60) Future<Void> reset();\n"
    + "}\n";

  @Test
  void generatesAProxyADispatcherAndACodecThatCompile() throws Exception {
    Result result = compile(Map.of("com/acme/Translator.java", GOOD));
    assertThat(result.errors()).isEmpty();
    assertThat(result.success).isTrue();

    String codec = result.generated("com/acme/TranslatorSpokeCodec.java");
    assertThat(codec).startsWith("// Generated by Spoke's code generator (spoke-vertx-codegen) from com.acme.Translator.");
    assertThat(codec).contains("static final int TRANSLATE = 0x"
      + Integer.toHexString(MethodIds.of("translate(java.lang.String,com.acme.Translator.Language)")) + ";");
    assertThat(codec).contains("static final int RESET = 0x60;");
    assertThat(codec).contains("static final class RecordPair {").contains("static final class MapOfStringToListOfInteger {");

    ClassLoader classes = result.classes();
    Class<?> iface = classes.loadClass("com.acme.Translator");
    Class<?> proxy = classes.loadClass("com.acme.TranslatorSpokeProxy");
    assertThat(iface.isAssignableFrom(proxy)).isTrue();
    Class<?> dispatcher = classes.loadClass("com.acme.TranslatorSpokeDispatcher");
    assertThat(io.spoke.vertx.service.ServiceDispatcher.class.isAssignableFrom(dispatcher)).isTrue();
    assertThat(result.generated("com/acme/TranslatorSpokeProxy.java")).contains("public void log(java.lang.String line) {")
      .contains("client.send(actorId, TranslatorSpokeCodec.LOG,");
  }

  @Test
  void theGeneratedCodecRoundTripsValues() throws Exception {
    Result result = compile(Map.of("com/acme/Translator.java", GOOD));
    assertThat(result.success).isTrue();
    ClassLoader classes = result.classes();
    Class<?> codec = classes.loadClass("com.acme.TranslatorSpokeCodec");
    java.lang.reflect.Field field = codec.getDeclaredField("HISTOGRAM_RESULT");
    field.setAccessible(true);
    @SuppressWarnings("unchecked")
    io.spoke.vertx.serialization.Serializer<Object> serializer = (io.spoke.vertx.serialization.Serializer<Object>) field.get(null);
    Map<String, List<Integer>> value = new java.util.LinkedHashMap<>();
    value.put("a", List.of(1, 2, 3));
    value.put("b", java.util.Arrays.asList(4, null));
    value.put("c", null);
    io.vertx.core.buffer.Buffer buffer = io.vertx.core.buffer.Buffer.buffer();
    serializer.write(value, buffer);
    assertThat(serializer.read(buffer)).isEqualTo(value);
  }

  @Test
  void listsSpokeActorClassesInTheActorIndex() throws Exception {
    Result result = compile(Map.of("com/acme/Worker.java", "package com.acme;\n"
      + "import io.spoke.vertx.actor.*;\n"
      + "@SpokeActor(\"Worker\")\n"
      + "public class Worker extends Actor {\n"
      + "  @Override protected void registerMethods() { registerMethod(1, m -> \"ok\"); }\n"
      + "}\n"));
    assertThat(result.errors()).isEmpty();
    assertThat(Files.readString(dir.resolve("classes/META-INF/spoke/actors"))).contains("\ncom.acme.Worker\n");
  }

  @Test
  void aMethodThatReturnsNeitherFutureNorStreamNorVoidIsAnError() throws Exception {
    Result result = compileService("  Future<String> ok();\n  String hello(int n);\n");
    assertThat(result.success).isFalse();
    assertThat(result.errors()).anyMatch(e -> e.contains("com.acme.Svc#hello(int)")
      && e.contains("method hello must return io.vertx.core.Future<T>, io.vertx.core.streams.ReadStream<T> or void, not java.lang.String"));
    assertThat(result.errorLines()).contains(9L);
  }

  @Test
  void anOverloadIsAnError() throws Exception {
    Result result = compileService("  Future<String> greet(String who);\n  Future<String> greet(String who, int times);\n");
    assertThat(result.errors()).anyMatch(e -> e.contains("method greet is overloaded"));
  }

  @Test
  void anUnsupportedParameterTypeIsAnErrorNamingMethodParameterAndType() throws Exception {
    Result result = compileService("  Future<String> when(java.util.Date date);\n");
    assertThat(result.errors()).anyMatch(e -> e.contains("method when: parameter 'date' has type java.util.Date, which Spoke cannot"
      + " serialize: java.util.Date is not supported. Supported: primitives and their boxes"));
    assertThat(result.errorLines()).contains(8L);
  }

  @Test
  void anUnsupportedResultTypeIsAnError() throws Exception {
    Result result = compileService("  Future<Thread> thread();\n");
    assertThat(result.errors()).anyMatch(e -> e.contains("method thread: its result of type java.lang.Thread cannot be serialized"));
  }

  @Test
  void otherArraysWildcardsRawTypesAndGenericMethodsAreErrors() throws Exception {
    assertThat(compileService("  Future<String> sum(int[] values);\n").errors())
      .anyMatch(e -> e.contains("arrays other than byte[] are not supported: use a java.util.List"));
    assertThat(compileService("  Future<String> any(List<? extends Number> values);\n").errors())
      .anyMatch(e -> e.contains("wildcards (java.util.List<? extends java.lang.Number>) are not supported"));
    assertThat(compileService("  @SuppressWarnings(\"rawtypes\") Future<String> raw(List values);\n").errors())
      .anyMatch(e -> e.contains("raw java.util.List is not supported"));
    assertThat(compileService("  <T> Future<String> echo(String t);\n").errors())
      .anyMatch(e -> e.contains("method echo is generic"));
    assertThat(compileService("  Future<?> unknown();\n").errors())
      .anyMatch(e -> e.contains("method unknown must give the exact type of its result"));
    assertThat(compileService("  Future<String> list(ArrayList<String> values);\n").errors())
      .anyMatch(e -> e.contains("java.util.ArrayList is not supported: declare java.util.List, java.util.Set or java.util.Map"));
  }

  @Test
  void recordsMustBePublicAndOfSupportedTypes() throws Exception {
    Result hidden = compile(Map.of(
      "com/acme/Hidden.java", "package com.acme;\nrecord Hidden(String s) {}\n",
      "com/acme/Svc.java", "package com.acme;\nimport io.spoke.vertx.service.*;\nimport io.vertx.core.Future;\n@SpokeService\n"
        + "public interface Svc {\n  Future<String> take(Hidden hidden);\n}\n"));
    assertThat(hidden.errors()).anyMatch(e -> e.contains("record com.acme.Hidden must be public"));
    Result bad = compileService("  record Stamp(java.util.Date when) {}\n  Future<String> take(Stamp stamp);\n");
    assertThat(bad.errors()).anyMatch(e -> e.contains("component 'when' of record com.acme.Svc.Stamp: java.util.Date is not supported"));
  }

  @Test
  void twoMethodsWithTheSameIdAreAnError() throws Exception {
    Result result = compileService("  @MethodId(7) Future<String> a();\n  @MethodId(7) Future<String> b();\n");
    assertThat(result.errors()).anyMatch(e -> e.contains("methods a and b have the same id 0x7 (set with @MethodId)"));
  }

  @Test
  void onlyInterfacesCanBeServices() throws Exception {
    Result result = compile(Map.of("com/acme/Svc.java", "package com.acme;\nimport io.spoke.vertx.service.*;\n@SpokeService\n"
      + "public class Svc {\n}\n"));
    assertThat(result.errors()).anyMatch(e -> e.contains("@SpokeService applies to interfaces; Svc is a class"));
  }

  @Test
  void aSpokeActorMustBeAConstructibleActor() throws Exception {
    Result notActor = compile(Map.of("com/acme/W.java", "package com.acme;\n@io.spoke.vertx.actor.SpokeActor(\"W\")\npublic class W {\n}\n"));
    assertThat(notActor.errors()).anyMatch(e -> e.contains("@SpokeActor class W must extend io.spoke.vertx.actor.Actor"));
    Result noConstructor = compile(Map.of("com/acme/W.java", "package com.acme;\nimport io.spoke.vertx.actor.*;\n@SpokeActor(\"W\")\n"
      + "public class W extends Actor {\n  public W(int x) {}\n}\n"));
    assertThat(noConstructor.errors()).anyMatch(e -> e.contains("@SpokeActor class W needs a public no-argument constructor"));
  }
}
