package org.balloonlab.lab.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.geom.Path2D;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The machine-wide panels of the memory plot, above the VMs' own: the machine's memory <b>by VM</b> (each VM's
 * mapped frames stacked in natural order, the free frames on top, so the top edge is the machine's memory) and
 * <b>by kind</b> (every VM's mapped, ballooned and host-swapped memory added up and stacked, under the configured
 * total). With many VMs these show at a glance what sixteen small panels do not: who holds the machine, and how
 * much of the configured memory is ballooned or swapped.
 */
final class MachineMemory {
  /** One colour per VM, apart from the kinds' (mapped blue, ballooned orange, swapped red); cycled past ten. */
  private static final Color[] VM_COLORS = {new Color(0x17becf), new Color(0x8d69b8), new Color(0x519e3e),
      new Color(0xbcbd22), new Color(0x84584e), new Color(0xd57dbf), new Color(0x7f7f7f), new Color(0x2a9d8f),
      new Color(0x6a4c93), new Color(0xb5838d)};
  private static final Color FREE = new Color(0xdddddd);
  /** The most VMs a legend names; the rest are counted. */
  private static final int LEGEND_LINES = 7;

  /** The samples of a run added up per lab time: what the two panels draw. */
  record Totals(double[] seconds, long[][] mappedByVm, long[] free, long[] mapped, long[] ballooned,
                long[] swapped, long[] configured) {
  }

  private MachineMemory() {}

  /** Adds up {@code byVm} (in the order to stack) per lab time; a VM without a sample at a time adds nothing. */
  static Totals totals(Map<String, List<VmSample>> byVm) {
    TreeMap<Double, Integer> index = new TreeMap<>();
    byVm.values().forEach(l -> l.forEach(s -> index.put(s.labSeconds(), 0)));
    double[] seconds = new double[index.size()];
    int n = 0;
    for (Map.Entry<Double, Integer> e : index.entrySet()) {
      seconds[n] = e.getKey();
      e.setValue(n++);
    }
    long[][] byVmMapped = new long[byVm.size()][n];
    long[] free = new long[n];
    long[] mapped = new long[n];
    long[] ballooned = new long[n];
    long[] swapped = new long[n];
    long[] configured = new long[n];
    int v = 0;
    for (List<VmSample> list : byVm.values()) {
      for (VmSample s : list) {
        int t = index.get(s.labSeconds());
        byVmMapped[v][t] += s.mappedPages();
        free[t] = s.freeFrames();
        mapped[t] += s.mappedPages();
        ballooned[t] += s.balloonPages();
        swapped[t] += s.hostSwappedPages();
        configured[t] += s.configuredPages();
      }
      v++;
    }
    return new Totals(seconds, byVmMapped, free, mapped, ballooned, swapped, configured);
  }

  /** The two panels for the VMs of {@code byVm}, in the order given; none without samples. */
  static List<Plots.MachinePanel> panels(Map<String, List<VmSample>> byVm) {
    if (byVm.isEmpty()) {
      return List.of();
    }
    Totals t = totals(byVm);
    List<String> names = new ArrayList<>(byVm.keySet());
    double top = 1;
    for (int i = 0; i < t.seconds().length; i++) {
      top = Math.max(top, Math.max(t.mapped()[i] + t.free()[i],
          Math.max(t.configured()[i], t.mapped()[i] + t.ballooned()[i] + t.swapped()[i])) * Plots.MIB_PER_PAGE);
    }
    double yMax = Plots.niceCeiling(top);

    List<Plots.Legend> vmLegend = new ArrayList<>();
    for (int v = 0; v < names.size() && v < LEGEND_LINES; v++) {
      vmLegend.add(new Plots.Legend(names.get(v), VM_COLORS[v % VM_COLORS.length], false));
    }
    if (names.size() > LEGEND_LINES) {
      vmLegend.add(new Plots.Legend("+" + (names.size() - LEGEND_LINES) + " more VMs", Color.WHITE, false));
    }
    vmLegend.add(new Plots.Legend("free", FREE, false));
    Plots.MachinePanel byVmPanel = new Plots.MachinePanel("the machine, by VM (mapped)", (g, panel, ignored) -> {
      panel.axes(g, 0, yMax);
      List<long[]> layers = new ArrayList<>(List.of(t.mappedByVm()));
      layers.add(t.free());
      List<Color> colors = new ArrayList<>();
      for (int v = 0; v < names.size(); v++) {
        colors.add(VM_COLORS[v % VM_COLORS.length]);
      }
      colors.add(FREE);
      stack(g, panel, t.seconds(), layers, colors, yMax);
    }, vmLegend);

    Plots.MachinePanel byKindPanel = new Plots.MachinePanel("the machine, by kind", (g, panel, ignored) -> {
      panel.axes(g, 0, yMax);
      stack(g, panel, t.seconds(), List.of(t.mapped(), t.ballooned(), t.swapped()),
          List.of(Plots.MAPPED, Plots.BALLOONED, Plots.SWAPPED), yMax);
      g.setColor(Color.DARK_GRAY);
      g.setStroke(Plots.dashed());
      line(g, panel, t.seconds(), t.configured(), yMax);
      g.setStroke(new BasicStroke(1));
    }, List.of(new Plots.Legend("mapped", Plots.MAPPED, false), new Plots.Legend("ballooned", Plots.BALLOONED, false),
        new Plots.Legend("swapped (host)", Plots.SWAPPED, false),
        new Plots.Legend("configured, all VMs", Color.DARK_GRAY, true)));
    return List.of(byVmPanel, byKindPanel);
  }

  /** Fills each layer (pages) over the ones before it. */
  private static void stack(Graphics2D g, Plots.Panel panel, double[] seconds, List<long[]> layers,
                            List<Color> colors, double yMax) {
    double[] base = new double[seconds.length];
    for (int k = 0; k < layers.size(); k++) {
      double[] next = new double[seconds.length];
      Path2D.Double area = new Path2D.Double();
      for (int i = 0; i < seconds.length; i++) {
        next[i] = base[i] + layers.get(k)[i] * Plots.MIB_PER_PAGE;
        double x = panel.x(seconds[i]);
        double y = panel.y(next[i], yMax);
        if (i == 0) {
          area.moveTo(x, y);
        } else {
          area.lineTo(x, y);
        }
      }
      for (int i = seconds.length - 1; i >= 0; i--) {
        area.lineTo(panel.x(seconds[i]), panel.y(base[i], yMax));
      }
      area.closePath();
      g.setColor(colors.get(k));
      g.fill(area);
      base = next;
    }
  }

  private static void line(Graphics2D g, Plots.Panel panel, double[] seconds, long[] pages, double yMax) {
    Path2D.Double path = new Path2D.Double();
    for (int i = 0; i < seconds.length; i++) {
      double x = panel.x(seconds[i]);
      double y = panel.y(pages[i] * Plots.MIB_PER_PAGE, yMax);
      if (i == 0) {
        path.moveTo(x, y);
      } else {
        path.lineTo(x, y);
      }
    }
    g.draw(path);
  }
}
