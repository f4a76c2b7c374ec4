// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.chaos;

/**
 * One hub process's memory and file descriptors: its baseline, the last sample within its first 10 s (start-up
 * done), and its peak after that.
 */
final class Footprint {

  private final long bornNanos = System.nanoTime();
  private long baseRssKb;
  private long baseFds;
  private long peakRssKb;
  private long peakFds;

  synchronized void sample(long rssKb, long fds) {
    if (System.nanoTime() - bornNanos < 10_000_000_000L) {
      baseRssKb = rssKb;
      baseFds = fds;
    }
    peakRssKb = Math.max(peakRssKb, rssKb);
    peakFds = Math.max(peakFds, fds);
  }

  synchronized long rssGrowthKb() {
    return Math.max(0, peakRssKb - baseRssKb);
  }

  synchronized long fdGrowth() {
    return Math.max(0, peakFds - baseFds);
  }
}
