// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The format {@code .editorconfig} states, checked on every build: every text file the project keeps is UTF-8 with LF
 * line ends and a final newline, without tabs or trailing whitespace; a Java line is at most {@value #MAX_JAVA_LINE}
 * characters. flatc's output ({@code protocol/fb}) is generated, not formatted by hand, and is left out.
 */
class SourceFormatTest {

  static final int MAX_JAVA_LINE = 150;

  private static final Set<String> TEXT = Set.of("java", "xml", "md", "sh", "fbs", "txt", "properties", "json", "html", "css", "js");
  private static final Set<String> TEXT_NAMES = Set.of("spoke", "run", ".gitignore", ".editorconfig");

  @Test
  void everyTextFileHasTheHouseFormat() throws IOException {
    Path root = Paths.get("").toAbsolutePath().getParent();
    assertThat(root.resolve(".editorconfig")).exists();
    List<String> violations = new ArrayList<>();
    int checked = 0;
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path file : (Iterable<Path>) walk.filter(Files::isRegularFile).filter(SourceFormatTest::isKept)::iterator) {
        check(root.relativize(file).toString(), Files.readAllBytes(file), violations);
        checked++;
      }
    }
    assertThat(checked).as("files checked under " + root).isGreaterThan(200);
    assertThat(violations).as("files off the house format (.editorconfig)").isEmpty();
  }

  /** The line that names the licence (LICENSE, Apache-2.0) in the first lines of every source file. */
  static final String SPDX = "SPDX-License-Identifier: Apache-2.0";

  private static final Set<String> SOURCE = Set.of("java", "js", "fbs", "sh", "sbatch");
  private static final Set<String> SOURCE_NAMES = Set.of("spoke", "run");

  @Test
  void everySourceFileNamesItsLicence() throws IOException {
    Path root = Paths.get("").toAbsolutePath().getParent();
    assertThat(root.resolve("LICENSE")).content().contains("Apache License").contains("Version 2.0, January 2004");
    List<String> unnamed = new ArrayList<>();
    int checked = 0;
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path file : (Iterable<Path>) walk.filter(Files::isRegularFile).filter(SourceFormatTest::isSource)::iterator) {
        if (!namesLicence(Files.readString(file))) {
          unnamed.add(root.relativize(file).toString());
        }
        checked++;
      }
    }
    assertThat(checked).as("source files under " + root).isGreaterThan(300);
    assertThat(unnamed).as("source files without the line '" + SPDX + "' in their first three lines").isEmpty();
  }

  static boolean namesLicence(String text) {
    return text.lines().limit(3).anyMatch(line -> line.equals("// " + SPDX) || line.equals("# " + SPDX));
  }

  private static boolean isSource(Path file) {
    if (isGeneratedOrOutside(file)) {
      return false;
    }
    String name = file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return SOURCE_NAMES.contains(name) || (dot > 0 && SOURCE.contains(name.substring(dot + 1)));
  }

  @Test
  void theLicenceCheckFindsWhatItLooksFor() {
    assertThat(namesLicence("// " + SPDX + "\npackage a;\n")).isTrue();
    assertThat(namesLicence("#!/bin/sh\n# " + SPDX + "\n")).isTrue();
    assertThat(namesLicence("package a;\n")).isFalse();
    assertThat(namesLicence("a\nb\nc\n// " + SPDX + "\n")).as("too far down").isFalse();
  }

  /** Build output, git's own files, flatc's output and npm's packages: not the project's sources. */
  private static boolean isGeneratedOrOutside(Path file) {
    String path = file.toString().replace('\\', '/');
    return path.contains("/target/") || path.contains("/.git/") || path.contains("/protocol/fb/") || path.contains("/node_modules/");
  }

  private static boolean isKept(Path file) {
    if (isGeneratedOrOutside(file)) {
      return false;
    }
    String name = file.getFileName().toString();
    int dot = name.lastIndexOf('.');
    return TEXT_NAMES.contains(name) || (dot > 0 && TEXT.contains(name.substring(dot + 1)));
  }

  static void check(String path, byte[] bytes, List<String> violations) {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
        .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      violations.add(path + ": not UTF-8");
      return;
    }
    if (text.isEmpty()) {
      return;
    }
    if (!text.endsWith("\n")) {
      violations.add(path + ": no newline at the end");
    }
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      String where = path + ":" + (i + 1);
      if (line.indexOf('\r') >= 0) {
        violations.add(where + ": CR (use LF line ends)");
      } else if (line.indexOf('\t') >= 0) {
        violations.add(where + ": a tab (indent with spaces)");
      } else if (!line.isEmpty() && Character.isWhitespace(line.charAt(line.length() - 1))) {
        violations.add(where + ": trailing whitespace");
      } else if (path.endsWith(".java") && line.length() > MAX_JAVA_LINE) {
        violations.add(where + ": " + line.length() + " characters, over " + MAX_JAVA_LINE);
      }
    }
  }

  @Test
  void theCheckFindsWhatItLooksFor() {
    List<String> violations = new ArrayList<>();
    check("A.java", "class A {\r\n}\n".getBytes(StandardCharsets.UTF_8), violations);
    check("B.java", "class B {\n\tint x;\n}".getBytes(StandardCharsets.UTF_8), violations);
    check("C.md", ("x".repeat(200) + " \n").getBytes(StandardCharsets.UTF_8), violations);
    check("D.java", ("// " + "x".repeat(MAX_JAVA_LINE) + "\n").getBytes(StandardCharsets.UTF_8), violations);
    check("E.java", new byte[] {(byte) 0xff, '\n'}, violations);
    check("F.java", "class F {\n}\n".getBytes(StandardCharsets.UTF_8), violations);
    assertThat(violations).containsExactly("A.java:1: CR (use LF line ends)", "B.java: no newline at the end",
      "B.java:2: a tab (indent with spaces)", "C.md:1: trailing whitespace", "D.java:1: 153 characters, over 150", "E.java: not UTF-8");
  }
}
