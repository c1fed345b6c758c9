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
 * Content-based page sharing's best case (Waldspurger, OSDI 2002, section 4.3, Fig. 4): ten identical guests of one
 * os-kind running the same workload over the same data set, against ten guests of ten kinds with private data.
 *
 * <p>Every figure is taken at the end of each run from the machine's counters ({@code report.json} machine):
 * memory shared is the guest pages mapped to a shared frame over every page the guests map; memory reclaimed is
 * the frames sharing saves (references less shared frames) over the same. The identical pages a run could share
 * at most are counted from the guests' own summaries (OS image pages, data-set pages filled) and the zero-filled
 * regions their workloads name. The plot follows the frames saved over time, from the time series: the guests'
 * mapped pages less the frames in use ({@code mapped - saved + free = machine}).
 */
final class PageSharingBestCase implements Experiment {
  private static final Pattern ZERO = Pattern.compile("(?:^|[:,])zero=([^,]+)");
  private static final Pattern DATA_SET = Pattern.compile("(?:^|[:,])data-set=([^,]+)");

  @Override
  public String name() {
    return "page-sharing";
  }

  @Override
  public List<String> runs() {
    return List.of("identical", "mixed");
  }

  @Override
  public Map<String, String> metrics() {
    Map<String, String> m = new LinkedHashMap<>();
    for (String run : runs()) {
      m.put(run + "_shared_pct", run + ": guest pages mapped to a shared frame, % of the guests' mapped pages, end");
      m.put(run + "_reclaimed_pct", run + ": frames saved by sharing, % of the guests' mapped pages, end");
      m.put(run + "_found_pct", run + ": shared pages, % of the pages the configuration makes identical");
      m.put(run + "_reclaim_per_shared", run + ": frames saved per shared page");
      m.put(run + "_saved_mib", run + ": frames saved, MiB, end");
      m.put(run + "_cow_breaks", run + ": copy-on-write breaks over the run");
    }
    m.put("saved_ratio", "frames saved, identical run over mixed run");
    m.put("table_pct", "the sharing table's bytes, % of machine memory (the larger of the two runs)");
    return m;
  }

  @Override
  public Analysis analyse(ExperimentDefinition def, Map<String, RunResult> runs) {
    Map<String, Double> metrics = new LinkedHashMap<>();
    List<List<String>> rows = new ArrayList<>();
    List<ExperimentChart.Series> series = new ArrayList<>();
    double tablePct = 0;
    for (ExperimentDefinition.Run spec : def.runs()) {
      RunResult run = runs.get(spec.label());
      String p = spec.label() + "_";
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
      rows.add(List.of(spec.label(), ResultTable.number(RunResult.mib((long) mapped)),
          ResultTable.number(RunResult.mib((long) identical)), ResultTable.number(RunResult.mib((long) refs)),
          ResultTable.number(sharing.path("sharedFrames").asDouble()),
          ResultTable.number(sharing.path("zeroReferences").asDouble()),
          ResultTable.number(RunResult.mib((long) saved)), ResultTable.number(sharing.path("hints").asDouble()),
          ResultTable.number(sharing.path("cowBreaks").asDouble()),
          ResultTable.number(sharing.path("scannedPages").asDouble()),
          ResultTable.number(sharing.path("tableBytes").asDouble())));
      series.add(savedOverTime(spec.label(), run, frames));
    }
    double mixedSaved = metrics.get("mixed_saved_mib");
    metrics.put("saved_ratio", mixedSaved > 0 ? metrics.get("identical_saved_mib") / mixedSaved
        : Double.POSITIVE_INFINITY);
    metrics.put("table_pct", tablePct);
    ResultTable table = new ResultTable("sharing", "Each run at its end (machine counters)",
        List.of("run", "mapped MiB", "identical by configuration MiB", "shared MiB", "shared frames",
            "zero-page references", "saved MiB", "hints", "copy-on-write breaks", "pages scanned",
            "table bytes"), rows);
    ExperimentChart chart = new ExperimentChart("Page sharing: memory reclaimed, % of the guests' mapped memory",
        "lab time (s)", "reclaimed (%)", series, List.of());
    return new Analysis(metrics, List.of(table), chart);
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
