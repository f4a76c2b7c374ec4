// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import java.util.Arrays;

/** Round-trip times of a run, in nanoseconds, and their percentiles. Not thread-safe: one event loop records. */
final class Latencies {

  private long[] samples = new long[1 << 16];
  private int count;

  void record(long nanos) {
    if (count == samples.length) {
      samples = Arrays.copyOf(samples, samples.length * 2);
    }
    samples[count++] = nanos;
  }

  void addAll(Latencies other) {
    for (int i = 0; i < other.count; i++) {
      record(other.samples[i]);
    }
  }

  int count() {
    return count;
  }

  /** The median of {@code values} (the mean of the middle two for an even count; the array is left as it was). */
  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  /** The {@code p}th percentile of {@code values} (nearest rank; the array is left as it was). */
  static double percentile(double[] values, int p) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  /** The {@code p}-th percentile in microseconds ({@code p} in 0..100). */
  double percentileMicros(double p) {
    if (count == 0) {
      return Double.NaN;
    }
    long[] sorted = Arrays.copyOf(samples, count);
    Arrays.sort(sorted);
    int index = (int) Math.min(count - 1, Math.max(0, Math.ceil(p / 100.0 * count) - 1));
    return sorted[index] / 1000.0;
  }
}
