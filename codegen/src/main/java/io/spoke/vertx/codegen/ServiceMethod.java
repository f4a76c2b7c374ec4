// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.codegen;

import java.util.List;
import javax.lang.model.element.ExecutableElement;

/** One method of a service, as the generators need it. */
final class ServiceMethod {

  enum Kind { CALL, ONE_WAY, STREAM }

  final ExecutableElement element;
  final String name;
  final String signature;
  final int id;
  final boolean explicitId;
  final Kind kind;
  final List<String> paramNames;
  final List<WireType> paramTypes;
  /** The result (CALL), the item (STREAM), or {@code null} (ONE_WAY). */
  final WireType result;
  /** The declared return type as source. */
  final String returnSource;

  ServiceMethod(ExecutableElement element, String signature, int id, boolean explicitId, Kind kind, List<String> paramNames,
                List<WireType> paramTypes, WireType result, String returnSource) {
    this.element = element;
    this.name = element.getSimpleName().toString();
    this.signature = signature;
    this.id = id;
    this.explicitId = explicitId;
    this.kind = kind;
    this.paramNames = paramNames;
    this.paramTypes = paramTypes;
    this.result = result;
    this.returnSource = returnSource;
  }

  /** {@code translate} to {@code TRANSLATE}, {@code getTokens} to {@code GET_TOKENS}. */
  String constant() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (Character.isUpperCase(c) && i > 0 && !Character.isUpperCase(name.charAt(i - 1))) {
        sb.append('_');
      }
      sb.append(Character.toUpperCase(c));
    }
    return sb.toString();
  }

  /** {@code translate} to {@code Translate}. */
  String capitalized() {
    return Character.toUpperCase(name.charAt(0)) + name.substring(1);
  }

  /** The parameters as a declaration: {@code java.lang.String text, int n}. */
  String parameters() {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < paramNames.size(); i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(paramTypes.get(i).source).append(' ').append(paramNames.get(i));
    }
    return sb.toString();
  }

  String arguments() {
    return String.join(", ", paramNames);
  }
}
