// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The code's tiers, checked on every build (this module's tests see every module). JPMS would say the same with
 * {@code module-info.java}, but Vert.x codegen's processor and the tests' class-path set-up fight it, so the rules
 * are checked here, on the sources and the compiled classes:
 * <ul>
 *   <li>an {@code impl} package is used only by its own module;</li>
 *   <li>API types (public classes outside {@code impl}, {@code internal} and {@code protocol}) show no {@code impl} or
 *     {@code internal} type, and no type that is not public, in what they make public: supertypes, public and protected
 *     members;</li>
 *   <li>the generated FlatBuffers tables and builder are used by {@code protocol} only (in main code: tests may use
 *     them), so {@link #FLATBUFFERS_STILL_OUTSIDE_PROTOCOL} is empty;</li>
 *   <li>no hand-written main class is longer than {@value #MAX_LINES} lines, except those in {@link #LONG_FILES},
 *     which may not grow.</li>
 * </ul>
 */
class TierRulesTest {

  static final int MAX_LINES = 450;

  /** Main files outside {@code protocol} that still build or read control messages themselves: none, and it stays so. */
  static final List<String> FLATBUFFERS_STILL_OUTSIDE_PROTOCOL = List.of();

  /** Hand-written classes over {@link #MAX_LINES} lines, with the most lines each may have until it is split. */
  static final Map<String, Integer> LONG_FILES = Map.of();

  private static final Pattern IMPL_REFERENCE = Pattern.compile("\\bio\\.spoke\\.vertx\\.((?:[a-z]+\\.)*impl)\\.[A-Z]");
  private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);

  private static Path root;
  /** Every Java source of the project, by its path from the root. */
  private static final Map<String, String> sources = new TreeMap<>();

  @BeforeAll
  static void readSources() throws IOException {
    root = Paths.get("").toAbsolutePath().getParent();
    assertThat(root.resolve("pom.xml")).as("the project root above this module").exists();
    try (Stream<Path> files = Files.walk(root)) {
      for (Path file : (Iterable<Path>) files.filter(f -> f.toString().endsWith(".java"))
        .filter(f -> f.toString().contains("/src/main/java/") || f.toString().contains("/src/test/java/"))
        .filter(f -> !f.toString().contains("/target/"))::iterator) {
        sources.put(root.relativize(file).toString(), Files.readString(file));
      }
    }
    assertThat(sources).as("sources found under " + root).hasSizeGreaterThan(100);
  }

  @Test
  void anImplPackageIsUsedOnlyByItsOwnModule() {
    Map<String, String> implOwners = new TreeMap<>();
    sources.forEach((path, text) -> {
      Matcher pkg = PACKAGE.matcher(text);
      if (pkg.find() && pkg.group(1).matches(".*\\.impl(\\..*)?") && path.contains("/src/main/java/")) {
        implOwners.put(pkg.group(1), module(path));
      }
    });
    List<String> violations = new ArrayList<>();
    sources.forEach((path, text) -> {
      Matcher m = IMPL_REFERENCE.matcher(text);
      while (m.find()) {
        String owner = implOwners.get("io.spoke.vertx." + m.group(1));
        if (owner != null && !owner.equals(module(path))) {
          violations.add(path + " uses io.spoke.vertx." + m.group(1) + " of " + owner);
        }
      }
    });
    assertThat(violations).as("impl packages used from other modules").isEmpty();
  }

  @Test
  void apiTypesShowNoImplInternalOrHiddenType() throws Exception {
    List<String> violations = new ArrayList<>();
    for (Class<?> type : apiClasses()) {
      if (!Modifier.isPublic(type.getModifiers())) {
        continue;
      }
      check(violations, type, "extends", type.getGenericSuperclass());
      for (Type itf : type.getGenericInterfaces()) {
        check(violations, type, "implements", itf);
      }
      for (Method method : type.getDeclaredMethods()) {
        if (exposed(method.getModifiers()) && !method.isSynthetic() && !method.isBridge()) {
          check(violations, type, method.getName() + "() returns", method.getGenericReturnType());
          for (Type param : method.getGenericParameterTypes()) {
            check(violations, type, method.getName() + "() takes", param);
          }
        }
      }
      for (Constructor<?> constructor : type.getDeclaredConstructors()) {
        if (exposed(constructor.getModifiers()) && !constructor.isSynthetic()) {
          for (Type param : constructor.getGenericParameterTypes()) {
            check(violations, type, "its constructor takes", param);
          }
        }
      }
      for (Field field : type.getDeclaredFields()) {
        if (exposed(field.getModifiers()) && !field.isSynthetic()) {
          check(violations, type, "field " + field.getName() + " is", field.getGenericType());
        }
      }
    }
    assertThat(violations).as("API types that expose what is not API").isEmpty();
  }

  @Test
  void onlyProtocolBuildsOrReadsControlMessages() throws Exception {
    List<String> tables = new ArrayList<>();
    for (String path : sources.keySet()) {
      if (path.contains("/io/spoke/vertx/protocol/fb/")) {
        String name = path.substring(path.lastIndexOf('/') + 1, path.length() - ".java".length());
        if (com.google.flatbuffers.Table.class.isAssignableFrom(Class.forName("io.spoke.vertx.protocol.fb." + name))) {
          tables.add(name);
        }
      }
    }
    assertThat(tables).as("generated tables").contains("Hello", "Spawn", "Header");
    Pattern use = Pattern.compile("\\bFlatBufferBuilder\\b|\\bio\\.spoke\\.vertx\\.protocol\\.fb\\.(" + String.join("|", tables) + ")\\b");
    List<String> users = sources.entrySet().stream()
      .filter(e -> e.getKey().contains("/src/main/java/") && !e.getKey().contains("/io/spoke/vertx/protocol/"))
      .filter(e -> use.matcher(e.getValue()).find() && !userTablesOnly(e.getKey()))
      .map(Map.Entry::getKey).collect(Collectors.toList());
    assertThat(users).as("main code outside protocol that builds or reads control messages (only protocol may)")
      .containsExactlyInAnyOrderElementsOf(FLATBUFFERS_STILL_OUTSIDE_PROTOCOL);
  }

  @Test
  void noHandWrittenClassGrowsPastTheLimit() {
    List<String> violations = new ArrayList<>();
    sources.forEach((path, text) -> {
      if (!path.contains("/src/main/java/") || path.contains("/protocol/fb/")) {
        return;
      }
      long lines = text.lines().count();
      Integer allowed = LONG_FILES.get(path);
      if (allowed == null && lines > MAX_LINES) {
        violations.add(path + ": " + lines + " lines, over " + MAX_LINES);
      } else if (allowed != null && lines > allowed) {
        violations.add(path + ": " + lines + " lines, over the " + allowed + " it had; split it instead");
      } else if (allowed != null && lines <= MAX_LINES) {
        violations.add(path + ": " + lines + " lines now: take it off LONG_FILES");
      }
    });
    assertThat(violations).isEmpty();
  }

  /**
   * Serialization takes users' own FlatBuffers tables as arguments and results ({@code Wire}, {@code Serializers},
   * the code generator's {@code WireTypes}), and the frame benchmark measures the builder itself: they use FlatBuffers,
   * not Spoke's control messages.
   */
  private static boolean userTablesOnly(String path) {
    return !sources.get(path).contains("io.spoke.vertx.protocol.fb.") || path.endsWith("/jmh/FrameBenchmark.java");
  }

  private static boolean exposed(int modifiers) {
    return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
  }

  private static void check(List<String> violations, Class<?> owner, String where, Type type) {
    if (type == null) {
      return;
    }
    if (type instanceof Class<?> c) {
      Class<?> base = c;
      while (base.isArray()) {
        base = base.getComponentType();
      }
      if (base.isPrimitive()) {
        return;
      }
      String name = base.getName();
      if (name.startsWith("io.spoke.vertx.") && (name.contains(".impl.") || name.contains(".internal."))) {
        violations.add(owner.getName() + " " + where + " " + name);
      } else if (!Modifier.isPublic(base.getModifiers())) {
        violations.add(owner.getName() + " " + where + " " + name + ", which is not public");
      }
    } else if (type instanceof ParameterizedType p) {
      check(violations, owner, where, p.getRawType());
      for (Type arg : p.getActualTypeArguments()) {
        check(violations, owner, where, arg);
      }
    } else if (type instanceof GenericArrayType a) {
      check(violations, owner, where, a.getGenericComponentType());
    } else if (type instanceof WildcardType w) {
      for (Type bound : w.getUpperBounds()) {
        check(violations, owner, where, bound);
      }
      for (Type bound : w.getLowerBounds()) {
        check(violations, owner, where, bound);
      }
    } else if (type instanceof TypeVariable<?> v && !(v.getGenericDeclaration() instanceof Class<?>)) {
      // A method's own type variable: its bounds are part of the signature (a class's are checked with the class).
      for (Type bound : v.getBounds()) {
        if (!(bound instanceof ParameterizedType p && List.of(p.getActualTypeArguments()).contains(v))) {
          check(violations, owner, where, bound);
        }
      }
    }
  }

  /** The classes of the API packages of Spoke's library modules (not the examples, benchmarks or the generator). */
  private static List<Class<?>> apiClasses() throws ClassNotFoundException {
    List<Class<?>> classes = new ArrayList<>();
    for (String path : sources.keySet()) {
      if (!path.startsWith("spoke-vertx-") || !path.contains("/src/main/java/")) {
        continue;
      }
      String name = path.substring(path.indexOf("/src/main/java/") + "/src/main/java/".length(), path.length() - ".java".length())
        .replace('/', '.');
      if (name.contains(".impl.") || name.contains(".internal.") || name.startsWith("io.spoke.vertx.protocol.")
        || name.endsWith("package-info")) {
        continue;
      }
      classes.add(Class.forName(name, false, TierRulesTest.class.getClassLoader()));
    }
    assertThat(classes).as("API classes").hasSizeGreaterThan(50);
    return classes;
  }

  private static String module(String path) {
    return path.substring(0, path.indexOf('/'));
  }
}
