package org.balloonlab.lab.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;
import org.balloonlab.domain.VmName;

/**
 * Draws a run's plots as PNG with Java2D, so a student sees what happened without reading numbers: one panel per
 * VM in the VMs' natural order (vm2 before vm10), sharing the time axis, with the scheduled actions marked where
 * they happened. A few VMs stack in one column; more fill a grid ({@link PlotLayout}). The memory plot starts
 * with two machine-wide panels ({@link MachineMemory}): memory by VM and by kind, stacked.
 *
 * <ul>
 *   <li>{@link #memory}: each VM's memory over time, stacked: mapped (backed by a machine frame), ballooned (held
 *       by its balloon driver) and swapped (paged out by the hypervisor), under its configured size.</li>
 *   <li>{@link #faultRates}: faults per simulated second: true faults the guest handles, hidden faults the hypervisor
 *       resolves, and the hypervisor's page-outs of that VM.</li>
 * </ul>
 * Drawn headless (no display needed) and with no library beyond the JDK.
 */
public final class Plots {
  /** A vertical mark at a lab time of the run, such as a scheduled fault. */
  public record Marker(double labSeconds, String label) {
  }

  /** Width of every plot, in pixels. */
  public static final int WIDTH = 1000;
  /** Height of one VM's panel. */
  public static final int PANEL_HEIGHT = 200;
  static final int TOP = 62;
  static final int BOTTOM = 45;
  static final int LEFT = 80;
  static final int RIGHT = 170;

  static final Color MAPPED = new Color(0x3b75af);
  static final Color BALLOONED = new Color(0xef8636);
  static final Color SWAPPED = new Color(0xc53a32);
  /** Shared memory is drawn as a line inside the mapped area, in a colour no layer uses. */
  static final Color SHARED = new Color(0x1a7f5a);
  private static final Color GUEST = new Color(0x519e3e);
  private static final Color HIDDEN = new Color(0x8d69b8);
  private static final Color PAGE_OUTS = SWAPPED;
  static final double MIB_PER_PAGE = 4096.0 / (1 << 20);

  private Plots() {}

  /** The height of a plot with {@code vms} VM panels and {@code machinePanels} machine-wide ones above. */
  public static int height(int vms, int machinePanels) {
    return PlotLayout.of(vms, machinePanels).height();
  }

  /** The width of a plot with {@code vms} VM panels: {@link #WIDTH} up to three, wider for a grid. */
  public static int width(int vms) {
    return PlotLayout.of(vms, 0).width();
  }

  /** Memory per VM over time, stacked by mapped, ballooned and swapped. */
  public static void memory(String title, List<VmSample> samples, List<Marker> markers, Path png) throws IOException {
    Map<String, List<VmSample>> byVm = byVm(samples);
    double yMax = 1;
    for (VmSample s : samples) {
      yMax = Math.max(yMax, Math.max(s.configuredPages(),
          s.mappedPages() + s.balloonPages() + s.hostSwappedPages()) * MIB_PER_PAGE);
    }
    double top = yMax;
    boolean sharing = samples.stream().anyMatch(s -> s.sharedPages() > 0);
    List<Legend> legends = new ArrayList<>(List.of(new Legend("mapped", MAPPED, false),
        new Legend("ballooned", BALLOONED, false), new Legend("swapped (host)", SWAPPED, false),
        new Legend("configured", Color.DARK_GRAY, true)));
    if (sharing) {
      legends.add(new Legend("of it shared", SHARED, true));
    }
    draw(title, byVm, markers, png, "MiB", (g, panel, vmSamples) -> {
      panel.axes(g, 0, top);
      List<ToDoubleFunction<VmSample>> layers = List.of(
          s -> s.mappedPages() * MIB_PER_PAGE,
          s -> s.balloonPages() * MIB_PER_PAGE,
          s -> s.hostSwappedPages() * MIB_PER_PAGE);
      Color[] colors = {MAPPED, BALLOONED, SWAPPED};
      double[] base = new double[vmSamples.size()];
      for (int layer = 0; layer < layers.size(); layer++) {
        Path2D.Double area = new Path2D.Double();
        double[] next = new double[base.length];
        for (int i = 0; i < vmSamples.size(); i++) {
          next[i] = base[i] + layers.get(layer).applyAsDouble(vmSamples.get(i));
          double x = panel.x(vmSamples.get(i).labSeconds());
          if (i == 0) {
            area.moveTo(x, panel.y(next[i], top));
          } else {
            area.lineTo(x, panel.y(next[i], top));
          }
        }
        for (int i = vmSamples.size() - 1; i >= 0; i--) {
          area.lineTo(panel.x(vmSamples.get(i).labSeconds()), panel.y(base[i], top));
        }
        area.closePath();
        g.setColor(colors[layer]);
        g.fill(area);
        base = next;
      }
      g.setColor(Color.DARK_GRAY);
      g.setStroke(dashed());
      polyline(g, panel, vmSamples, s -> s.configuredPages() * MIB_PER_PAGE, top);
      if (sharing) {
        // The part of the mapped memory that sits on shared frames (copy-on-write), a line inside the mapped area.
        g.setColor(SHARED);
        polyline(g, panel, vmSamples, s -> s.sharedPages() * MIB_PER_PAGE, top);
      }
      g.setStroke(new BasicStroke(1));
    }, legends, MachineMemory.panels(byVm));
  }

  /** Fault rates per VM over lab time: guest true faults, hidden faults and host page-outs, per simulated second. */
  public static void faultRates(String title, List<VmSample> samples, List<Marker> markers, Path png)
      throws IOException {
    Map<String, List<VmSample>> byVm = byVm(samples);
    List<ToDoubleFunction<VmSample>> counters = List.of(
        s -> s.guestFaults(), s -> s.hiddenFaults(), s -> s.hostPageOuts());
    Color[] colors = {GUEST, HIDDEN, PAGE_OUTS};
    draw(title, byVm, markers, png, "per simulated second", (g, panel, vmSamples) -> {
      List<double[]> rates = new ArrayList<>();
      double top = 1;
      for (ToDoubleFunction<VmSample> c : counters) {
        double[] r = rates(vmSamples, c);
        rates.add(r);
        for (double v : r) {
          top = Math.max(top, v);
        }
      }
      top = niceCeiling(top);
      panel.axes(g, 0, top);
      // Page-outs first and hidden faults dashed on top: each page-out usually comes back as a hidden fault, so
      // the two lines often coincide.
      for (int k : new int[] {2, 0, 1}) {
        double[] r = rates.get(k);
        g.setColor(colors[k]);
        g.setStroke(k == 1 ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f,
            new float[] {7f, 5f}, 0f) : new BasicStroke(2f));
        Path2D.Double line = new Path2D.Double();
        for (int i = 0; i < r.length; i++) {
          double x = panel.x(vmSamples.get(i).labSeconds());
          double y = panel.y(r[i], top);
          if (i == 0) {
            line.moveTo(x, y);
          } else {
            line.lineTo(x, y);
          }
        }
        g.draw(line);
      }
      g.setStroke(new BasicStroke(1));
    }, List.of(new Legend("guest faults", GUEST, false), new Legend("hidden faults", HIDDEN, true),
        new Legend("host page-outs", PAGE_OUTS, false)), List.of());
  }

  /** Per-interval rates of a cumulative counter; the first sample has rate 0. */
  static double[] rates(List<VmSample> samples, ToDoubleFunction<VmSample> counter) {
    double[] r = new double[samples.size()];
    for (int i = 1; i < samples.size(); i++) {
      double dt = samples.get(i).labSeconds() - samples.get(i - 1).labSeconds();
      double dv = counter.applyAsDouble(samples.get(i)) - counter.applyAsDouble(samples.get(i - 1));
      r[i] = dt > 0 ? Math.max(0, dv / dt) : r[i - 1];
    }
    return r;
  }

  interface PanelPainter {
    void paint(Graphics2D g, Panel panel, List<VmSample> samples);
  }

  /** A line of a panel's legend: a filled box, or a dashed line. */
  record Legend(String label, Color color, boolean dashed) {
  }

  /** A machine-wide panel above the VMs' ({@link MachineMemory}). */
  record MachinePanel(String name, PanelPainter painter, List<Legend> legend) {
  }

  /** One VM's drawing area and its time axis. */
  record Panel(int left, int top, int width, int height, double xMax, String unit, String vm,
                       boolean first) {
    double x(double seconds) {
      return left + seconds / xMax * width;
    }

    double y(double value, double yMax) {
      return top + height - Math.min(value, yMax) / yMax * height;
    }

    void axes(Graphics2D g, double yMin, double yMax) {
      g.setColor(new Color(0xeeeeee));
      for (int i = 1; i <= 4; i++) {
        int y = (int) Math.round(top + height - i * height / 4.0);
        g.drawLine(left, y, left + width, y);
      }
      g.setColor(Color.BLACK);
      g.drawRect(left, top, width, height);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
      for (int i = 0; i <= 4; i++) {
        double v = yMin + (yMax - yMin) * i / 4;
        int y = (int) Math.round(top + height - i * height / 4.0);
        String label = label(v);
        g.drawString(label, left - 6 - g.getFontMetrics().stringWidth(label), y + 4);
      }
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
      if (first) { // every panel has the same unit: say it once, above the first
        g.drawString(unit, 8, top - 6);
      }
    }

    /** The VM's name on a white tab, drawn last so the data never hides it. */
    void name(Graphics2D g) {
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
      int w = g.getFontMetrics().stringWidth(vm);
      g.setColor(Color.WHITE);
      g.fillRect(left + 1, top + 1, w + 10, 20);
      g.setColor(Color.BLACK);
      g.drawString(vm, left + 6, top + 16);
    }
  }

  private static void draw(String title, Map<String, List<VmSample>> byVm, List<Marker> markers, Path png,
                           String unit, PanelPainter painter, List<Legend> legend, List<MachinePanel> machine)
      throws IOException {
    System.setProperty("java.awt.headless", "true");
    PlotLayout layout = PlotLayout.of(byVm.size(), machine.size());
    BufferedImage image = new BufferedImage(layout.width(), layout.height(), BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, layout.width(), layout.height());
      g.setColor(Color.BLACK);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
      g.drawString(title, LEFT, 28);
      double xMax = 1;
      for (List<VmSample> list : byVm.values()) {
        for (VmSample s : list) {
          xMax = Math.max(xMax, s.labSeconds());
        }
      }
      int legendX = LEFT + layout.gridWidth() + 15;
      for (int k = 0; k < machine.size(); k++) {
        PlotLayout.Rect r = layout.machinePanel(k);
        MachinePanel m = machine.get(k);
        Panel panel = new Panel(r.left(), r.top(), r.width(), r.height(), xMax, unit, m.name(), k == 0);
        m.painter().paint(g, panel, List.of());
        drawMarkers(g, panel, markers, k == 0);
        panel.name(g);
        drawLegend(g, m.legend(), legendX, r.top() + 10);
        if (k == machine.size() - 1) {
          timeAxis(g, panel, false);
        }
      }
      int i = 0;
      for (Map.Entry<String, List<VmSample>> e : byVm.entrySet()) {
        PlotLayout.Rect r = layout.vmPanel(i);
        Panel panel = new Panel(r.left(), r.top(), r.width(), r.height(), xMax, unit, e.getKey(),
            i == 0 && machine.isEmpty());
        painter.paint(g, panel, e.getValue());
        drawMarkers(g, panel, markers, machine.isEmpty() && i < layout.columns());
        panel.name(g);
        if (layout.lastInColumn(i)) {
          timeAxis(g, panel, i == byVm.size() - 1);
        }
        i++;
      }
      if (byVm.isEmpty()) {
        g.drawString("no samples: the run ended before the first one", LEFT, layout.vmPanel(0).top() + 40);
      }
      drawLegend(g, legend, legendX, layout.vmPanel(0).top() + 10);
    } finally {
      g.dispose();
    }
    if (!ImageIO.write(image, "png", png.toFile())) {
      throw new IOException("no PNG writer in this JDK");
    }
  }

  /** The time axis under {@code panel}: ticks, their labels, and with {@code caption} what the axis is. */
  private static void timeAxis(Graphics2D g, Panel panel, boolean caption) {
    int axisY = panel.top() + panel.height();
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    double step = niceStep(panel.xMax() / (panel.width() >= 600 ? 8 : 5));
    for (double t = 0; t <= panel.xMax() + 1e-9; t += step) {
      int x = (int) Math.round(panel.x(t));
      g.drawLine(x, axisY, x, axisY + 4);
      String label = label(t) + "s";
      g.drawString(label, x - g.getFontMetrics().stringWidth(label) / 2, axisY + 17);
    }
    if (caption) {
      g.drawString("lab time (simulated seconds)", panel.left() + panel.width() / 2 - 70, axisY + 33);
    }
  }

  private static void drawMarkers(Graphics2D g, Panel panel, List<Marker> markers, boolean labels) {
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    int row = 0;
    for (Marker m : markers) {
      int x = (int) Math.round(panel.x(m.labSeconds()));
      g.setColor(Color.BLACK);
      g.setStroke(dashed());
      g.drawLine(x, panel.top(), x, panel.top() + panel.height());
      g.setStroke(new BasicStroke(1));
      if (labels) {
        // Alternate two rows so labels of actions close in time do not overlap.
        g.drawString(m.label(), x + 3, panel.top() - 4 - (row++ % 2) * 13);
      }
    }
  }

  static void drawLegend(Graphics2D g, List<Legend> legend, int x, int y) {
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    for (int i = 0; i < legend.size(); i++) {
      Legend l = legend.get(i);
      int ly = y + i * 20;
      g.setColor(l.color());
      if (l.dashed()) {
        g.setStroke(dashed());
        g.drawLine(x, ly + 6, x + 14, ly + 6);
        g.setStroke(new BasicStroke(1));
      } else {
        g.fillRect(x, ly, 14, 12);
      }
      g.setColor(Color.BLACK);
      g.drawString(l.label(), x + 20, ly + 11);
    }
  }

  private static void polyline(Graphics2D g, Panel panel, List<VmSample> samples, ToDoubleFunction<VmSample> f,
                               double top) {
    Path2D.Double line = new Path2D.Double();
    for (int i = 0; i < samples.size(); i++) {
      double x = panel.x(samples.get(i).labSeconds());
      double y = panel.y(f.applyAsDouble(samples.get(i)), top);
      if (i == 0) {
        line.moveTo(x, y);
      } else {
        line.lineTo(x, y);
      }
    }
    g.draw(line);
  }

  static Stroke dashed() {
    return new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {5f, 4f}, 0f);
  }

  static Map<String, List<VmSample>> byVm(List<VmSample> samples) {
    // Natural order (vm2 before vm10), everywhere a run's VMs are listed.
    Map<String, List<VmSample>> byVm = new java.util.TreeMap<>(VmName.NATURAL_ORDER);
    for (VmSample s : samples) {
      byVm.computeIfAbsent(s.vm(), k -> new ArrayList<>()).add(s);
    }
    return byVm;
  }

  static double niceStep(double raw) {
    if (raw <= 0) {
      return 1;
    }
    double p = Math.pow(10, Math.floor(Math.log10(raw)));
    double m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }

  static double niceCeiling(double v) {
    double step = niceStep(v / 4);
    return Math.max(step, Math.ceil(v / step) * step);
  }

  private static String label(double v) {
    if (v >= 1e6) {
      return String.format(Locale.ROOT, "%.1fM", v / 1e6);
    }
    if (v >= 1e4) {
      return String.format(Locale.ROOT, "%.0fk", v / 1e3);
    }
    return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.1f", v);
  }
}
