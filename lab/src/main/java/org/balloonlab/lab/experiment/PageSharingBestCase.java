package org.balloonlab.lab.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.balloonlab.lab.report.VmSample;
import org.balloonlab.lab.scenario.GuestSpec;
import org.balloonlab.units.MemorySize;

/**
 * Content-based page sharing (Waldspurger, OSDI 2002, section 4.3, Fig. 4): identical guests of one os-kind running
 * the same workload over the same data set, started one after another from one to ten, against ten guests of ten
 * kinds with private data.
 *
 * <p>The series run gives the curve ({@link SharingSeries}): for each number of VMs, the memory shared and the
 * memory reclaimed, as MiB and as a share of the guests' mapped memory, read just before the next guest starts. Its
 * end, and the mixed run's, give the figures the paper states, from the machine's counters ({@code report.json}
 * machine): memory shared is the guest pages mapped to a shared frame over every page the guests map; memory
 * reclaimed is the frames sharing saves (references less shared frames) over the same. The identical pages a run
 * could share at most are counted from the guests' own summaries (OS image pages, data-set pages filled) and the
 * zero-filled regions their workloads name. It can be run reduced ({@code --vms N}): the first N guests of each run.
 */
final class PageSharingBestCase implements Experiment {
  /** The run whose guests start one after another. */
  static final String SERIES = "series";
  /** The run of ten guests of ten kinds. */
  static final String MIXED = "mixed";
  /** The most VMs the series has metrics for ({@code vms_1_...} to {@code vms_10_...}). */
  static final int MAX_VMS = 10;
  private static final Pattern ZERO = Pattern.compile("(?:^|[:,])zero=([^,]+)");
  private static final Pattern DATA_SET = Pattern.compile("(?:^|[:,])data-set=([^,]+)");

  @Override
  public String name() {
    return "page-sharing";
  }

  @Override
  public List<String> runs() {
    return List.of(SERIES, MIXED);
  }

  @Override
  public boolean reducible() {
    return true;
  }

  @Override
  public Map<String, String> metrics() {
    Map<String, String> m = new LinkedHashMap<>();
    for (String run : List.of("identical", MIXED)) {
      String what = run.equals(MIXED) ? "mixed kinds" : "identical VMs (the series run's end)";
      m.put(run + "_shared_pct", what + ": guest pages mapped to a shared frame, % of the guests' mapped pages, end");
      m.put(run + "_reclaimed_pct", what + ": frames saved by sharing, % of the guests' mapped pages, end");
      m.put(run + "_found_pct", what + ": shared pages, % of the pages the configuration makes identical");
      m.put(run + "_reclaim_per_shared", what + ": frames saved per shared page");
      m.put(run + "_saved_mib", what + ": frames saved, MiB, end");
      m.put(run + "_cow_breaks", what + ": copy-on-write breaks over the run");
    }
    m.put("saved_ratio", "frames saved, identical VMs over mixed kinds");
    m.put("table_pct", "the sharing table's bytes, % of machine memory (the larger of the two runs)");
    for (int n = 1; n <= MAX_VMS; n++) {
      m.put("vms_" + n + "_shared_pct", n + " identical VM(s): memory shared, % of the guests' mapped memory");
      m.put("vms_" + n + "_reclaimed_pct", n + " identical VM(s): memory reclaimed, % of the guests' mapped memory");
    }
    m.put("series_vms", "identical VMs the series reached");
    m.put("series_monotone", "1 if every VM added raised the memory shared, the frames saved and the reclaimed %");
    m.put("series_model_gap", "largest gap (points) between the reclaimed % and z + (shared % - z) (N - 1) / N, "
        + "z the one-VM shared %");
    m.put("series_settle", "largest change (points) of the shared or reclaimed % over the last second of a step");
    return m;
  }

  @Override
  public Analysis analyse(ExperimentDefinition def, Map<String, RunResult> runs) {
    Map<String, Double> metrics = new LinkedHashMap<>();
    List<List<String>> rows = new ArrayList<>();
    List<ExperimentChart.Series> overTime = new ArrayList<>();
    double tablePct = 0;
    for (String label : runs()) {
      ExperimentDefinition.Run spec = def.run(label);
      RunResult run = runs.get(label);
      String p = label.equals(SERIES) ? "identical_" : "mixed_";
      JsonNode machine = run.report().path("machine");
      JsonNode sharing = machine.path("sharing");
      double mapped = machine.path("mappedFrames").asDouble();
      double refs = sharing.path("sharedReferences").asDouble();
      double saved = sharing.path("savedFrames").asDouble();
      double frames = machine.path("machineFrames").asDouble();
      double identical = identicalPages(spec.scenario().guests(), run);
      metrics.put(p + "shared_pct", mapped > 0 ? 100 * refs / mapped : Double.NaN);
      metrics.put(p + "reclaimed_pct", mapped > 0 ? 100 * saved / mapped : Double.NaN);
      metrics.put(p + "found_pct", identical > 0 ? 100 * Math.min(refs, identical) / identical : Double.NaN);
      metrics.put(p + "reclaim_per_shared", refs > 0 ? saved / refs : Double.NaN);
      metrics.put(p + "saved_mib", RunResult.mib((long) saved));
      metrics.put(p + "cow_breaks", sharing.path("cowBreaks").asDouble());
      if (frames > 0) {
        tablePct = Math.max(tablePct, 100 * sharing.path("tableBytes").asDouble() / (frames * 4096));
      }
      rows.add(List.of(label, ResultTable.number(spec.scenario().guests().size()),
          ResultTable.number(RunResult.mib((long) mapped)),
          ResultTable.number(RunResult.mib((long) identical)), ResultTable.number(RunResult.mib((long) refs)),
          ResultTable.number(sharing.path("sharedFrames").asDouble()),
          ResultTable.number(sharing.path("zeroReferences").asDouble()),
          ResultTable.number(RunResult.mib((long) saved)), ResultTable.number(sharing.path("hints").asDouble()),
          ResultTable.number(sharing.path("cowBreaks").asDouble()),
          ResultTable.number(sharing.path("scannedPages").asDouble()),
          ResultTable.number(sharing.path("tableBytes").asDouble())));
      overTime.add(savedOverTime(label, run, frames));
    }
    double mixedSaved = metrics.get("mixed_saved_mib");
    metrics.put("saved_ratio", mixedSaved > 0 ? metrics.get("identical_saved_mib") / mixedSaved
        : Double.POSITIVE_INFINITY);
    metrics.put("table_pct", tablePct);
    ResultTable table = new ResultTable("sharing", "Each run at its end (machine counters)",
        List.of("run", "VMs", "mapped MiB", "identical by configuration MiB", "shared MiB", "shared frames",
            "zero-page references", "saved MiB", "hints", "copy-on-write breaks", "pages scanned",
            "table bytes"), rows);

    RunResult series = runs.get(SERIES);
    List<SharingSeries.Point> points = SharingSeries.points(series.samples(),
        series.report().path("machine").path("machineFrames").asLong());
    Curve curve = curve(points, def.run(SERIES).scenario().guests(), series, metrics);
    int mixedVms = def.run(MIXED).scenario().guests().size();
    ExperimentChart chart = new ExperimentChart("Page sharing: identical VMs, % of the guests' mapped memory",
        "identical VMs", "% of VM memory", List.of(curve.shared(), curve.reclaimed(),
            point("mixed kinds, reclaimed", mixedVms, metrics.get("mixed_reclaimed_pct")),
            point("ESX, shared (10 VMs)", MAX_VMS, 67), point("ESX, reclaimed", MAX_VMS, 60)), List.of());
    ExperimentChart mib = new ExperimentChart("Page sharing: identical VMs, memory (MiB)", "identical VMs",
        "MiB", List.of(curve.mappedMib(), curve.sharedMib(), curve.savedMib()), List.of());
    ExperimentChart time = new ExperimentChart("Page sharing: memory reclaimed over lab time, % of the guests' "
        + "mapped memory", "lab time (s)", "reclaimed (%)", overTime, List.of());
    Map<String, ExperimentChart> more = new LinkedHashMap<>(); // in this order in the files line and result.md
    more.put("plot-mib.png", mib);
    more.put("plot-time.png", time);
    return new Analysis(metrics, List.of(curve.table(), table), chart, more);
  }

  /** The series' table and its plot lines (the curve's metrics go into the map it is given). */
  private record Curve(ResultTable table, ExperimentChart.Series shared, ExperimentChart.Series reclaimed,
                       ExperimentChart.Series mappedMib, ExperimentChart.Series sharedMib,
                       ExperimentChart.Series savedMib) {
  }

  private static Curve curve(List<SharingSeries.Point> points, List<GuestSpec> guests, RunResult run,
                             Map<String, Double> metrics) {
    for (int n = 1; n <= MAX_VMS; n++) {
      metrics.put("vms_" + n + "_shared_pct", Double.NaN);
      metrics.put("vms_" + n + "_reclaimed_pct", Double.NaN);
    }
    int k = points.size();
    double[] x = new double[k];
    double[][] y = new double[6][k];
    double z = !points.isEmpty() && points.get(0).vms() == 1 ? points.get(0).sharedPct() : Double.NaN;
    List<List<String>> rows = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      SharingSeries.Point p = points.get(i);
      double model = SharingSeries.modelReclaimedPct(z, p.sharedPct(), p.vms());
      double identical = p.vms() <= guests.size()
          ? identicalPages(guests.subList(0, p.vms()), run) : Double.NaN;
      x[i] = p.vms();
      y[0][i] = p.sharedPct();
      y[1][i] = p.reclaimedPct();
      y[2][i] = p.vms() == 1 ? Double.NaN : model;
      y[3][i] = RunResult.mib(p.mappedPages());
      y[4][i] = RunResult.mib(p.sharedPages());
      y[5][i] = RunResult.mib(p.savedFrames());
      if (p.vms() <= MAX_VMS) {
        metrics.put("vms_" + p.vms() + "_shared_pct", p.sharedPct());
        metrics.put("vms_" + p.vms() + "_reclaimed_pct", p.reclaimedPct());
      }
      rows.add(List.of(ResultTable.number(p.vms()), ResultTable.number(p.labSeconds()), ResultTable.number(y[3][i]),
          ResultTable.number(p.mappedPages() > 0 ? 100 * identical / p.mappedPages() : Double.NaN),
          ResultTable.number(y[4][i]), ResultTable.number(p.sharedPct()), ResultTable.number(y[5][i]),
          ResultTable.number(p.reclaimedPct()), ResultTable.number(y[2][i]), ResultTable.number(p.settle())));
    }
    metrics.put("series_vms", k == 0 ? 0.0 : points.get(k - 1).vms());
    metrics.put("series_monotone", SharingSeries.monotone(points));
    metrics.put("series_model_gap", SharingSeries.modelGap(points));
    metrics.put("series_settle", SharingSeries.settle(points));
    ResultTable table = new ResultTable("series", "Identical VMs started one after another: the machine just before "
        + "each next start", List.of("VMs", "lab time s", "mapped MiB", "identical by configuration %", "shared MiB",
        "shared %", "saved MiB", "reclaimed %", "reclaimed by the (N-1)/N model %", "change over its last second, "
        + "points"), rows);
    return new Curve(table, new ExperimentChart.Series("shared", x, y[0]),
        new ExperimentChart.Series("reclaimed", x, y[1]),
        new ExperimentChart.Series("VM memory (mapped)", x, y[3]), new ExperimentChart.Series("shared", x, y[4]),
        new ExperimentChart.Series("saved", x, y[5]));
  }

  /** A line of one point: a dot. */
  private static ExperimentChart.Series point(String name, double x, double y) {
    return new ExperimentChart.Series(name, new double[] {x}, new double[] {y});
  }

  /**
   * The pages the configuration makes identical across guests: OS image pages of an os-kind two or more guests
   * boot, data-set pages of a set two or more guests name (as the guests' summaries count them), and every
   * zero-filled region (zero pages all share one frame).
   */
  static double identicalPages(List<GuestSpec> guests, RunResult run) {
    Map<String, Integer> kinds = new TreeMap<>();
    Map<String, Integer> sets = new TreeMap<>();
    for (GuestSpec g : guests) {
      kinds.merge(osKind(g), 1, Integer::sum);
      dataSet(g).ifPresent(d -> sets.merge(d, 1, Integer::sum));
    }
    double pages = 0;
    for (GuestSpec g : guests) {
      if (kinds.get(osKind(g)) > 1) {
        pages += run.summaryCount(g.name(), "image_pages");
      }
      if (dataSet(g).map(d -> sets.get(d) > 1).orElse(false)) {
        pages += run.summaryCount(g.name(), "data_set_fills");
      }
      pages += zeroPages(g);
    }
    return pages;
  }

  private static String osKind(GuestSpec g) {
    return g.osKind() == null ? "linux" : g.osKind();
  }

  /** The data set the guest's first workload that names one names ({@code data-set=NAME}). */
  private static Optional<String> dataSet(GuestSpec g) {
    for (String w : g.workloads()) {
      Matcher m = DATA_SET.matcher(w);
      if (m.find()) {
        return Optional.of(m.group(1));
      }
    }
    return Optional.empty();
  }

  /** The pages of the zero-filled regions the guest's workloads name ({@code zero=SIZE}), per process. */
  static double zeroPages(GuestSpec g) {
    double pages = 0;
    int processes = g.processes() == null ? 1 : g.processes();
    for (String w : g.workloads()) {
      Matcher m = ZERO.matcher(w);
      if (m.find()) {
        pages += MemorySize.parse(m.group(1)).bytes() / 4096.0 * processes;
      }
    }
    return pages;
  }

  /** Frames saved over time, % of the guests' mapped pages: their mapped pages less the frames in use. */
  private static ExperimentChart.Series savedOverTime(String label, RunResult run, double machineFrames) {
    Map<Double, long[]> byTime = new TreeMap<>();
    for (VmSample s : run.samples()) {
      long[] t = byTime.computeIfAbsent(s.labSeconds(), k -> new long[2]);
      t[0] += s.mappedPages();
      t[1] = s.freeFrames();
    }
    double[] x = new double[byTime.size()];
    double[] y = new double[byTime.size()];
    int i = 0;
    for (Map.Entry<Double, long[]> e : byTime.entrySet()) {
      long mapped = e.getValue()[0];
      double saved = mapped - (machineFrames - e.getValue()[1]);
      x[i] = e.getKey();
      y[i++] = mapped > 0 ? 100 * Math.max(0, saved) / mapped : 0;
    }
    return new ExperimentChart.Series(label, x, y);
  }
}
