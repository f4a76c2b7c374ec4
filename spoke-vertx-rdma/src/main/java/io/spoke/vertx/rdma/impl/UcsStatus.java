// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.rdma.impl;

import io.spoke.vertx.RdmaException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;
import org.openucx.jucx.ucs.UcsConstants;

/** UCX status codes: their names, and the typed failures that carry them. Internal to the RDMA module: not API. */
public final class UcsStatus {

  private UcsStatus() {
  }

  private static final Map<Integer, String> STATUS_NAMES = statusNames();

  private static Map<Integer, String> statusNames() {
    Map<Integer, String> names = new HashMap<>();
    for (Field field : UcsConstants.STATUS.class.getFields()) {
      if (Modifier.isStatic(field.getModifiers()) && field.getType() == int.class) {
        try {
          names.putIfAbsent(field.getInt(null), field.getName());
        } catch (IllegalAccessException ignored) {
          // public fields
        }
      }
    }
    return names;
  }

  /** UCX's name of a status code. */
  public static String statusName(int status) {
    String name = STATUS_NAMES.get(status);
    return name != null ? name : "UCS status " + status;
  }

  /** A typed failure for a UCX status, naming it. */
  public static RdmaException failure(int status, String message) {
    String name = statusName(status);
    return new RdmaException(status, name, message + " (" + name + ")");
  }

  /** The UCX status of a jucx failure; 0 for anything else. */
  public static int status(RuntimeException e) {
    return e instanceof org.openucx.jucx.UcxException ? ((org.openucx.jucx.UcxException) e).getStatus() : 0;
  }

  /** The failure of an operation on something closed here (a link, an endpoint). */
  public static RdmaException cancelled(String what) {
    return new RdmaException(UcsConstants.STATUS.UCS_ERR_CANCELED, "UCS_ERR_CANCELED", what);
  }
}
