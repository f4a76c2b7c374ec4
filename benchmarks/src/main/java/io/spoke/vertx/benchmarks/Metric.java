// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import io.vertx.core.json.JsonObject;

/** One line of the harness's output: a value, its unit, and the baseline measured in the same run. */
final class Metric {

  final String name;
  final double value;
  final String unit;
  final Double baseline;
  final String note;

  Metric(String name, double value, String unit, Double baseline, String note) {
    this.name = name;
    this.value = value;
    this.unit = unit;
    this.baseline = baseline;
    this.note = note;
  }

  /** value / baseline, or {@code null} without a baseline. */
  Double ratio() {
    return baseline == null || baseline == 0 ? null : value / baseline;
  }

  JsonObject toJson() {
    JsonObject json = new JsonObject().put("metric", name).put("value", round(value)).put("unit", unit)
      .put("baseline", baseline == null ? null : round(baseline)).put("ratio", ratio() == null ? null : round(ratio()));
    if (note != null) {
      json.put("note", note);
    }
    return json;
  }

  static Metric fromJson(JsonObject json) {
    return new Metric(json.getString("metric"), json.getDouble("value"), json.getString("unit"), json.getDouble("baseline"),
      json.getString("note"));
  }

  private static double round(double v) {
    return Math.abs(v) >= 100 ? Math.round(v) : Math.round(v * 1000) / 1000.0;
  }
}
