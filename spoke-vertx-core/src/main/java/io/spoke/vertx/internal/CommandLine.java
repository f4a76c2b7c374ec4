// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Maps command-line flags onto the JSON form of an options class, so the command line and a verticle's
 * config configure the same thing: {@code --heartbeat-interval 500} becomes {@code "heartbeatInterval": 500}.
 * Each flag's type is that of its key in a template (the options' {@code toJson()}); flags of keys the
 * template leaves out (because their default is {@code null}) are strings.
 */
public final class CommandLine {

  private CommandLine() {
  }

  /**
   * @param args flags as {@code --name value} or {@code --name=value}; booleans may omit the value
   * @param template the options' defaults as JSON
   * @param stringKeys keys of string options absent from the template
   * @param aliases extra flag names (without dashes) mapped to keys
   * @throws IllegalArgumentException naming the flag, on an unknown flag or a value of the wrong type
   */
  public static JsonObject parse(List<String> args, JsonObject template, Set<String> stringKeys, Map<String, String> aliases) {
    JsonObject json = new JsonObject();
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (!arg.startsWith("--") || arg.length() == 2) {
        throw new IllegalArgumentException("unexpected argument '" + arg + "'; options look like --name value");
      }
      String name = arg.substring(2);
      String value = null;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      String key = aliases.getOrDefault(name, camel(name));
      Object defaultValue = template.getValue(key);
      boolean known = template.containsKey(key) || stringKeys.contains(key);
      if (!known) {
        throw new IllegalArgumentException("unknown option --" + name + "; options are: " + flags(template, stringKeys, aliases));
      }
      if (value == null) {
        if (defaultValue instanceof Boolean && (i + 1 >= args.size() || args.get(i + 1).startsWith("--"))) {
          value = "true";
        } else if (i + 1 < args.size()) {
          value = args.get(++i);
        } else {
          throw new IllegalArgumentException("option --" + name + " needs a value");
        }
      }
      json.put(key, convert(name, value, defaultValue));
    }
    return json;
  }

  private static Object convert(String flag, String value, Object defaultValue) {
    try {
      if (defaultValue instanceof Integer) {
        return Integer.parseInt(value.trim());
      } else if (defaultValue instanceof Long || defaultValue instanceof Number) {
        return Long.parseLong(value.trim());
      } else if (defaultValue instanceof Boolean) {
        if (!value.equals("true") && !value.equals("false")) {
          throw new IllegalArgumentException("option --" + flag + " takes true or false, got '" + value + "'");
        }
        return Boolean.parseBoolean(value);
      } else if (defaultValue instanceof JsonArray) {
        return new JsonArray(value.isEmpty() ? new ArrayList<>() : new ArrayList<>(Arrays.asList(value.split(","))));
      } else if (defaultValue instanceof JsonObject) {
        JsonObject map = new JsonObject();
        for (String pair : value.isEmpty() ? new String[0] : value.split(",")) {
          int eq = pair.indexOf('=');
          if (eq <= 0) {
            throw new IllegalArgumentException("option --" + flag + " takes NAME=VALUE,..., got '" + value + "'");
          }
          String v = pair.substring(eq + 1).trim();
          map.put(pair.substring(0, eq).trim(), v.matches("-?\\d+") ? (Object) Long.parseLong(v) : v);
        }
        return map;
      }
      return value;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("option --" + flag + " takes a number, got '" + value + "'");
    }
  }

  /** {@code heartbeat-interval} to {@code heartbeatInterval}. */
  public static String camel(String kebab) {
    StringBuilder sb = new StringBuilder(kebab.length());
    boolean upper = false;
    for (char c : kebab.toCharArray()) {
      if (c == '-') {
        upper = true;
      } else {
        sb.append(upper ? Character.toUpperCase(c) : c);
        upper = false;
      }
    }
    return sb.toString();
  }

  /** {@code heartbeatInterval} to {@code heartbeat-interval}. */
  public static String kebab(String camel) {
    StringBuilder sb = new StringBuilder(camel.length() + 4);
    for (char c : camel.toCharArray()) {
      if (Character.isUpperCase(c)) {
        sb.append('-').append(Character.toLowerCase(c));
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  /** Every flag, for usage messages. */
  public static String flags(JsonObject template, Set<String> stringKeys, Map<String, String> aliases) {
    Set<String> names = new TreeSet<>();
    template.fieldNames().forEach(k -> names.add("--" + kebab(k)));
    stringKeys.forEach(k -> names.add("--" + kebab(k)));
    aliases.keySet().forEach(a -> names.add("--" + a));
    return String.join(" ", names);
  }

  /** Splits {@code HOST:PORT} ({@code [v6]:PORT} for IPv6). */
  public static JsonObject hostPort(String flag, String value, String hostKey, String portKey) {
    int colon = value.lastIndexOf(':');
    if (colon <= 0 || colon == value.length() - 1) {
      throw new IllegalArgumentException("option --" + flag + " takes HOST:PORT, got '" + value + "'");
    }
    String host = value.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    try {
      return new JsonObject().put(hostKey, host).put(portKey, Integer.parseInt(value.substring(colon + 1)));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("option --" + flag + " takes HOST:PORT, got '" + value + "'");
    }
  }

  /**
   * {@code HOST:PORT}, or the hubs of a highly available control plane as {@code HOST:PORT,HOST:PORT,...}: the first
   * under {@code hostKey} and {@code portKey}, and all of them under {@code hubAddresses} when there are several.
   */
  public static JsonObject hubs(String flag, String value) {
    String[] hubs = value.split(",", -1);
    JsonObject json = hostPort(flag, hubs[0].trim(), "hubHost", "hubPort");
    if (hubs.length > 1) {
      JsonArray all = new JsonArray();
      for (String hub : hubs) {
        hostPort(flag, hub.trim(), "host", "port");
        all.add(hub.trim());
      }
      json.put("hubAddresses", all);
    }
    return json;
  }

  /** Removes {@code --flag value} (or {@code --flag=value}) from {@code args}; returns the value or {@code null}. */
  public static String take(List<String> args, String flag) {
    for (int i = 0; i < args.size(); i++) {
      String arg = args.get(i);
      if (arg.equals("--" + flag)) {
        if (i + 1 >= args.size()) {
          throw new IllegalArgumentException("option --" + flag + " needs a value");
        }
        String value = args.get(i + 1);
        args.remove(i + 1);
        args.remove(i);
        return value;
      }
      if (arg.startsWith("--" + flag + "=")) {
        args.remove(i);
        return arg.substring(flag.length() + 3);
      }
    }
    return null;
  }
}
