// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.benchmarks;

import io.vertx.core.json.JsonObject;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * The harness's chart (Java2D, headless): call latency percentiles of Spoke and its baseline on the left, and
 * throughput as a ratio to its baseline on the right, with the bar each metric must reach.
 */
final class Chart {

  private static final Color SPOKE = new Color(0x2b6cb0);
  private static final Color BASE = new Color(0xa0aec0);
  private static final Color BAR = new Color(0xc53030);
  private static final int WIDTH = 1200;
  private static final int HEIGHT = 600;

  /** Throughput metrics and the fraction of their baseline each must reach. */
  private static final Map<String, Double> BARS = new LinkedHashMap<>();

  static {
    BARS.put("call_sync", 0.8);
    BARS.put("call_sync_epoll", 0.8);
    BARS.put("call_async", 0.6);
    BARS.put("call_async_epoll", 0.6);
    BARS.put("call_sync_uds", 0.8);
    BARS.put("call_async_uds", 0.6);
    BARS.put("call_async_metrics", 0.9);
    BARS.put("call_1mib", 0.8);
    BARS.put("call_1mib_epoll", 0.8);
    BARS.put("n_n", null);
  }

  private Chart() {
  }

  static void write(List<Metric> metrics, JsonObject machine, Path file) throws IOException {
    Map<String, Metric> byName = new LinkedHashMap<>();
    metrics.forEach(m -> byName.put(m.name, m));
    BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, WIDTH, HEIGHT);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    g.drawString("Spoke on Vert.x vs. baselines measured in the same run", 20, 28);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    g.drawString(machine.getInteger("cores") + " cores, " + machine.getString("cpu") + ", " + memory(machine.getString("memory")) + ", "
      + machine.getString("jdk"), 20, 48);

    List<String[]> latency = new ArrayList<>();
    for (String call : List.of("call_sync", "call_sync_epoll", "call_sync_uds", "call_async", "call_async_epoll")) {
      for (String p : List.of("_p50", "_p99")) {
        if (byName.containsKey(call + p)) {
          latency.add(new String[] {call + p, p.substring(1), call.replace("call_", "").replace('_', ' ')});
        }
      }
    }
    drawLatency(g, byName, latency, 20, 70, 560, 500);

    List<String> throughput = new ArrayList<>();
    for (String name : BARS.keySet()) {
      if (byName.containsKey(name) && byName.get(name).ratio() != null) {
        throughput.add(name);
      }
    }
    drawRatios(g, byName, throughput, 620, 70, 560, 500);
    g.dispose();
    ImageIO.write(image, "png", file.toFile());
  }

  /** Paired bars (Spoke, baseline) on a log scale, microseconds. */
  private static void drawLatency(Graphics2D g, Map<String, Metric> byName, List<String[]> rows, int x, int y, int w, int h) {
    panel(g, "Call latency, microseconds (log scale; lower is better)", x, y, w, h);
    if (rows.isEmpty()) {
      return;
    }
    double max = 1;
    for (String[] row : rows) {
      Metric m = byName.get(row[0]);
      max = Math.max(max, Math.max(m.value, m.baseline == null ? 0 : m.baseline));
    }
    double logMax = Math.log10(max * 2);
    int plotX = x + 50;
    int plotY = y + 40;
    int plotH = h - 120;
    int plotW = w - 70;
    axisLog(g, plotX, plotY, plotW, plotH, logMax);
    int slot = plotW / rows.size();
    int bar = Math.max(6, slot / 3);
    for (int i = 0; i < rows.size(); i++) {
      Metric m = byName.get(rows.get(i)[0]);
      int sx = plotX + i * slot + (slot - 2 * bar) / 2;
      barLog(g, sx, plotY, plotH, bar, m.value, logMax, SPOKE);
      if (m.baseline != null) {
        barLog(g, sx + bar, plotY, plotH, bar, m.baseline, logMax, BASE);
      }
      g.setColor(Color.BLACK);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
      label(g, rows.get(i)[1], plotX + i * slot + slot / 2, plotY + plotH + 16);
      // The call's name once under its pair of percentiles, where it has the room of two slots.
      boolean pairsWithNext = i + 1 < rows.size() && rows.get(i + 1)[2].equals(rows.get(i)[2]);
      boolean pairedWithPrevious = i > 0 && rows.get(i - 1)[2].equals(rows.get(i)[2]);
      if (pairsWithNext) {
        label(g, rows.get(i)[2], plotX + (i + 1) * slot, plotY + plotH + 30);
      } else if (!pairedWithPrevious) {
        label(g, rows.get(i)[2], plotX + i * slot + slot / 2, plotY + plotH + 30);
      }
    }
    legend(g, x + 60, y + h - 22, "Spoke", "baseline: NetSocket echo, same framing", null);
  }

  /** Spoke's value as a fraction of its baseline (1.0 = as fast), with the bar to reach. */
  private static void drawRatios(Graphics2D g, Map<String, Metric> byName, List<String> names, int x, int y, int w, int h) {
    panel(g, "Throughput as a fraction of its baseline (higher is better)", x, y, w, h);
    if (names.isEmpty()) {
      return;
    }
    double max = 1.2;
    for (String name : names) {
      max = Math.max(max, byName.get(name).ratio() * 1.1);
    }
    int plotX = x + 50;
    int plotY = y + 40;
    int plotH = h - 120;
    int plotW = w - 70;
    g.setColor(Color.GRAY);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
    for (double t = 0; t <= max; t += 0.2) {
      int ty = plotY + plotH - (int) (t / max * plotH);
      g.drawLine(plotX - 4, ty, plotX, ty);
      g.drawString(String.format("%.1f", t), plotX - 30, ty + 4);
    }
    g.drawLine(plotX, plotY, plotX, plotY + plotH);
    g.drawLine(plotX, plotY + plotH, plotX + plotW, plotY + plotH);
    int oneY = plotY + plotH - (int) (1.0 / max * plotH);
    g.setColor(BASE);
    g.setStroke(new BasicStroke(1, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 4}, 0));
    g.drawLine(plotX, oneY, plotX + plotW, oneY);
    g.setStroke(new BasicStroke(1));
    int slot = plotW / names.size();
    int bar = Math.max(8, slot / 2);
    for (int i = 0; i < names.size(); i++) {
      Metric m = byName.get(names.get(i));
      int bx = plotX + i * slot + (slot - bar) / 2;
      int bh = (int) (m.ratio() / max * plotH);
      g.setColor(SPOKE);
      g.fillRect(bx, plotY + plotH - bh, bar, bh);
      Double target = BARS.get(m.name);
      if (target != null) {
        int ty = plotY + plotH - (int) (target / max * plotH);
        g.setColor(BAR);
        g.setStroke(new BasicStroke(2));
        g.drawLine(bx - 4, ty, bx + bar + 4, ty);
        g.setStroke(new BasicStroke(1));
      }
      g.setColor(Color.BLACK);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
      label(g, String.format("%.2f", m.ratio()), bx + bar / 2, plotY + plotH - bh - 4);
      label(g, compact(m.value) + " " + m.unit, bx + bar / 2, plotY + plotH - bh - 16);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
      // Staggered, so that long names of neighbouring bars do not run into each other.
      label(g, m.name.replace("call_", "").replace('_', ' '), plotX + i * slot + slot / 2, plotY + plotH + (i % 2 == 0 ? 16 : 30));
    }
    legend(g, x + 60, y + h - 22, "Spoke / baseline", "baseline (1.0)", "bar to reach");
  }

  private static void panel(Graphics2D g, String title, int x, int y, int w, int h) {
    g.setColor(new Color(0xf7fafc));
    g.fillRect(x, y, w, h);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
    g.drawString(title, x + 10, y + 20);
  }

  private static void axisLog(Graphics2D g, int x, int y, int w, int h, double logMax) {
    g.setColor(Color.GRAY);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
    for (int e = 0; e <= (int) logMax; e++) {
      int ty = y + h - (int) (e / logMax * h);
      g.drawLine(x - 4, ty, x, ty);
      g.drawString(String.valueOf((long) Math.pow(10, e)), x - 45, ty + 4);
    }
    g.drawLine(x, y, x, y + h);
    g.drawLine(x, y + h, x + w, y + h);
  }

  private static void barLog(Graphics2D g, int x, int y, int h, int w, double value, double logMax, Color color) {
    int bh = (int) (Math.max(0, Math.log10(Math.max(1, value))) / logMax * h);
    g.setColor(color);
    g.fillRect(x, y + h - bh, w - 1, bh);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 9));
    label(g, compact(value), x + w / 2, y + h - bh - 3);
  }

  private static void legend(Graphics2D g, int x, int y, String spoke, String base, String bar) {
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    g.setColor(SPOKE);
    g.fillRect(x, y, 12, 12);
    g.setColor(Color.BLACK);
    g.drawString(spoke, x + 16, y + 11);
    int bx = x + 30 + g.getFontMetrics().stringWidth(spoke);
    g.setColor(BASE);
    g.fillRect(bx, y, 12, 12);
    g.setColor(Color.BLACK);
    g.drawString(base, bx + 16, y + 11);
    if (bar != null) {
      int rx = bx + 30 + g.getFontMetrics().stringWidth(base);
      g.setColor(BAR);
      g.fillRect(rx, y + 5, 14, 3);
      g.setColor(Color.BLACK);
      g.drawString(bar, rx + 18, y + 11);
    }
  }

  private static void label(Graphics2D g, String text, int centerX, int baselineY) {
    g.drawString(text, centerX - g.getFontMetrics().stringWidth(text) / 2, baselineY);
  }

  /** "24683656 kB" (from /proc/meminfo) as "23.5 GiB". */
  private static String memory(String meminfo) {
    try {
      return String.format("%.1f GiB", Long.parseLong(meminfo.replaceAll("[^0-9]", "")) / 1024.0 / 1024.0);
    } catch (NumberFormatException e) {
      return meminfo;
    }
  }

  private static String compact(double v) {
    if (v >= 1_000_000) {
      return String.format("%.1fM", v / 1_000_000);
    }
    if (v >= 10_000) {
      return String.format("%.0fk", v / 1_000);
    }
    if (v >= 100) {
      return String.format("%.0f", v);
    }
    return String.format("%.1f", v);
  }
}
