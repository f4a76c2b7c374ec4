// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.codegen;

/** Builds Java source with two-space indentation, so that generated code reads like written code. */
final class SourceWriter {

  private final StringBuilder out = new StringBuilder();
  private int indent;

  SourceWriter line(String line) {
    if (!line.isEmpty()) {
      out.append("  ".repeat(indent));
    }
    out.append(line).append('\n');
    return this;
  }

  SourceWriter blank() {
    out.append('\n');
    return this;
  }

  /** A line that opens a block ({@code ... {}); what follows is indented. */
  SourceWriter open(String line) {
    line(line);
    indent++;
    return this;
  }

  /** A line that closes a block; it and what follows are indented one level less. */
  SourceWriter close(String line) {
    indent--;
    line(line);
    return this;
  }

  @Override
  public String toString() {
    return out.toString();
  }
}
