// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal;

import io.spoke.vertx.SecurityOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reading options from JSON (a verticle's config, or the command line turned into JSON): unknown keys are
 * refused with the list of known ones, since a typo would otherwise silently keep a default, and values of
 * the wrong type name their key.
 */
public final class OptionsJson {

  private final JsonObject json;
  private final String owner;

  public OptionsJson(JsonObject json, String owner, Collection<String> knownKeys) {
    this.json = json;
    this.owner = owner;
    Set<String> unknown = new TreeSet<>(json.fieldNames());
    unknown.removeAll(knownKeys);
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException("unknown " + owner + " option" + (unknown.size() > 1 ? "s " : " ") + unknown
        + "; known options: " + new TreeSet<>(knownKeys));
    }
  }

  /** The security options among this object's keys ({@link SecurityOptions#KEYS}). */
  public SecurityOptions security() {
    return new SecurityOptions()
      .setToken(string("token", null))
      .setTokenFile(string("tokenFile", null))
      .setInsecure(bool("insecure", false))
      .setTlsCert(string("tlsCert", null))
      .setTlsKey(string("tlsKey", null))
      .setTlsCa(string("tlsCa", null))
      .setTlsVerifyHost(bool("tlsVerifyHost", true));
  }

  /** The object at {@code key}, or {@code null} when absent; an {@link IllegalArgumentException} naming it when not an object. */
  public JsonObject object(String key) {
    return has(key) ? get(key, JsonObject.class) : null;
  }

  public boolean has(String key) {
    return json.containsKey(key) && json.getValue(key) != null;
  }

  public String string(String key, String fallback) {
    return has(key) ? get(key, String.class) : fallback;
  }

  public int integer(String key, int fallback) {
    return has(key) ? number(key).intValue() : fallback;
  }

  public long longValue(String key, long fallback) {
    return has(key) ? number(key).longValue() : fallback;
  }

  public boolean bool(String key, boolean fallback) {
    return has(key) ? get(key, Boolean.class) : fallback;
  }

  public List<String> strings(String key, List<String> fallback) {
    if (!has(key)) {
      return fallback;
    }
    JsonArray array = get(key, JsonArray.class);
    List<String> list = new ArrayList<>(array.size());
    for (Object o : array) {
      if (!(o instanceof String)) {
        throw new IllegalArgumentException(owner + " option '" + key + "' must be an array of strings, got " + array.encode());
      }
      list.add((String) o);
    }
    return list;
  }

  public Map<String, String> stringMap(String key, Map<String, String> fallback) {
    if (!has(key)) {
      return fallback;
    }
    JsonObject object = get(key, JsonObject.class);
    Map<String, String> map = new LinkedHashMap<>();
    for (String name : object.fieldNames()) {
      Object value = object.getValue(name);
      if (!(value instanceof String)) {
        throw new IllegalArgumentException(owner + " option '" + key + "' must map names to strings; '" + name + "' is " + value);
      }
      map.put(name, (String) value);
    }
    return map;
  }

  /** An object mapping names to whole numbers, e.g. custom resources. */
  public Map<String, Long> longMap(String key, Map<String, Long> fallback) {
    if (!has(key)) {
      return fallback;
    }
    JsonObject object = get(key, JsonObject.class);
    Map<String, Long> map = new LinkedHashMap<>();
    for (String name : object.fieldNames()) {
      Object value = object.getValue(name);
      if (!(value instanceof Number)) {
        throw new IllegalArgumentException(owner + " option '" + key + "' must map names to numbers; '" + name + "' is " + describe(value));
      }
      map.put(name, ((Number) value).longValue());
    }
    return map;
  }

  private Number number(String key) {
    Object value = json.getValue(key);
    if (!(value instanceof Number)) {
      throw new IllegalArgumentException(owner + " option '" + key + "' must be a number, got " + describe(value));
    }
    return (Number) value;
  }

  private <T> T get(String key, Class<T> type) {
    Object value = json.getValue(key);
    if (!type.isInstance(value)) {
      throw new IllegalArgumentException(owner + " option '" + key + "' must be a " + type.getSimpleName().replace("JsonArray", "list")
        .replace("JsonObject", "object") + ", got " + describe(value));
    }
    return type.cast(value);
  }

  /** Fails with {@code message} unless {@code ok}: an options setter's range check. */
  public static void check(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }

  /** Puts {@code key} in {@code json} when {@code value} is set. */
  public static void putIfSet(JsonObject json, String key, String value) {
    if (value != null) {
      json.put(key, value);
    }
  }

  /** {@code value}, if it has more than blanks. */
  public static String notBlank(String name, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(name + " must not be empty");
    }
    return value;
  }

  private static String describe(Object value) {
    return value instanceof String ? "\"" + value + "\"" : String.valueOf(value);
  }
}
