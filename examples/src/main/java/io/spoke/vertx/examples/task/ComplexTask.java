package io.spoke.vertx.examples.task;

import java.util.Arrays;

/** The structured request of Spoke's RDMA example: {@code ComplexTask task = {666, "ZeroCopyCheck", {1.0, 2.0}}}. */
public final class ComplexTask {

  private final int id;
  private final String name;
  private final double[] values;

  public ComplexTask(int id, String name, double[] values) {
    this.id = id;
    this.name = name;
    this.values = values.clone();
  }

  public int id() {
    return id;
  }

  public String name() {
    return name;
  }

  public double[] values() {
    return values.clone();
  }

  double valueAt(int i) {
    return values[i];
  }

  int size() {
    return values.length;
  }

  @Override
  public String toString() {
    return "ComplexTask{" + id + ", \"" + name + "\", " + Arrays.toString(values) + "}";
  }
}
