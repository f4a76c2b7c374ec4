// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

/**
 * Rules for the names users choose (actor ids, node ids), checked by clients before sending and by servers
 * on receipt. Ids become file names (a log per actor), so they are restricted to a safe alphabet: letters,
 * digits, '.', '_', '-', not starting with '.' or '-', at most {@link #MAX_ID_LENGTH} characters.
 */
public final class Names {

  public static final int MAX_ID_LENGTH = 128;
  public static final int MAX_TYPE_LENGTH = 256;

  private Names() {
  }

  /** Why {@code id} is not a valid id, or {@code null} when it is. */
  public static String checkId(String what, String id) {
    if (id == null || id.isEmpty()) {
      return what + " must not be empty";
    }
    if (id.length() > MAX_ID_LENGTH) {
      return what + " '" + id.substring(0, 32) + "...' is " + id.length() + " characters long; the limit is " + MAX_ID_LENGTH;
    }
    char first = id.charAt(0);
    if (first == '.' || first == '-') {
      return what + " '" + id + "' must not start with '" + first + "'";
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
      if (!ok) {
        return what + " '" + id + "' contains '" + (c == '/' || c == '\\' ? c : printable(c))
          + "': ids may only contain letters, digits, '.', '_' and '-' (they name log files)";
      }
    }
    return null;
  }

  /** Why {@code type} is not a valid actor type name, or {@code null}. */
  public static String checkType(String type) {
    if (type == null || type.isEmpty()) {
      return "actor type must not be empty";
    }
    if (type.length() > MAX_TYPE_LENGTH) {
      return "actor type is " + type.length() + " characters long; the limit is " + MAX_TYPE_LENGTH;
    }
    for (int i = 0; i < type.length(); i++) {
      char c = type.charAt(i);
      if (Character.isWhitespace(c) || Character.isISOControl(c)) {
        return "actor type '" + type + "' contains whitespace or control characters";
      }
    }
    return null;
  }

  private static String printable(char c) {
    return Character.isISOControl(c) || Character.isWhitespace(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c);
  }
}
