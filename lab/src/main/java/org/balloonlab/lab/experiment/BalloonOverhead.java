package org.balloonlab.lab.experiment;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.balloonlab.lab.scenario.GuestSpec;

/**
 * Balloon overhead (Waldspurger, OSDI 2002, Fig. 2): for each size S, a VM booted with S ({@code small-S}) beside
 * one booted large and ballooned down to S before its workload starts ({@code balloon-S}), the same fixed work on
 * each. Throughput is the guest's file operations (a file workload, as dbench) or else its accesses per simulated
 * second of its own clock (from its summary); the overhead is how much slower the ballooned VM is, in percent.
 * The paper explains its 1.4 to 4.4 % by guest structures sized at boot by configured memory; the table shows the
 * guests' counters that would show them (any summary counter whose name starts with {@code boot_},
 * {@code kernel_}, {@code page_cache} or {@code cache_}) beside their faults, so the reason is read from the
 * guests, not assumed.
 */
final class BalloonOverhead implements Experiment {
  @Override
  public String name() {
    return "fig2";
  }

  @Override
  public Map<String, String> metrics() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("overhead_min_pct", "the least slowdown of a ballooned VM against the one booted that small, %");
    m.put("overhead_max_pct", "the greatest such slowdown, %");
    m.put("overhead_mean_pct", "the mean slowdown over the sizes, %");
    m.put("pairs", "pairs of VMs compared (small-S against balloon-S)");
    return m;
  }

  @Override
  public Analysis analyse(ExperimentDefinition def, Map<String, RunResult> runs) {
    RunResult run = runs.get(SINGLE_RUN);
    // Sizes in MiB, from the guests' names: small-S and balloon-S.
    TreeMap<Integer, String[]> pairs = new TreeMap<>();
    for (GuestSpec g : def.runs().get(0).scenario().guests()) {
      String[] parts = g.name().split("-", 2);
      if (parts.length == 2 && parts[1].matches("\\d{1,6}") && (parts[0].equals("small")
          || parts[0].equals("balloon"))) {
        String[] pair = pairs.computeIfAbsent(Integer.parseInt(parts[1]), k -> new String[2]);
        pair[parts[0].equals("small") ? 0 : 1] = g.name();
      }
    }
    pairs.values().removeIf(p -> p[0] == null || p[1] == null);
    List<String> extra = extraCounters(run, pairs);
    List<String> columns = new ArrayList<>(List.of("size MiB", "small ops/s", "ballooned ops/s",
        "ballooned slower %", "small faults", "ballooned faults", "small major", "ballooned major"));
    for (String c : extra) {
      columns.add("small " + c);
      columns.add("ballooned " + c);
    }
    List<List<String>> rows = new ArrayList<>();
    double min = Double.NaN;
    double max = Double.NaN;
    double sum = 0;
    double[] x = new double[pairs.size()];
    double[] small = new double[pairs.size()];
    double[] ballooned = new double[pairs.size()];
    int i = 0;
    for (Map.Entry<Integer, String[]> e : pairs.entrySet()) {
      String s = e.getValue()[0];
      String b = e.getValue()[1];
      double ts = throughput(run, s);
      double tb = throughput(run, b);
      double overhead = (ts - tb) / ts * 100;
      min = Double.isNaN(min) ? overhead : Math.min(min, overhead);
      max = Double.isNaN(max) ? overhead : Math.max(max, overhead);
      sum += overhead;
      List<String> row = new ArrayList<>(List.of(e.getKey().toString(), ResultTable.number(ts),
          ResultTable.number(tb), ResultTable.number(overhead), count(run, s, "true_faults"),
          count(run, b, "true_faults"), count(run, s, "major_faults"), count(run, b, "major_faults")));
      for (String c : extra) {
        row.add(count(run, s, c));
        row.add(count(run, b, c));
      }
      rows.add(row);
      x[i] = e.getKey();
      small[i] = ts;
      ballooned[i] = tb;
      i++;
    }
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("overhead_min_pct", min);
    m.put("overhead_max_pct", max);
    m.put("overhead_mean_pct", pairs.isEmpty() ? Double.NaN : sum / pairs.size());
    m.put("pairs", (double) pairs.size());
    ResultTable table = new ResultTable("pairs", "Each size: booted small against ballooned (guest counters)",
        columns, rows);
    ExperimentChart chart = new ExperimentChart("Balloon overhead: throughput by memory size", "memory (MiB)",
        "operations per simulated s", List.of(new ExperimentChart.Series("booted small", x, small),
            new ExperimentChart.Series("ballooned", x, ballooned)), List.of());
    return new Analysis(m, List.of(table), chart);
  }

  /** File operations per simulated second for a file workload (dbench's measure), accesses otherwise. */
  private static double throughput(RunResult run, String vm) {
    double fileOps = run.summaryCount(vm, "file_ops");
    double work = fileOps > 0 ? fileOps : run.summaryCount(vm, "accesses");
    return work / (run.summaryCount(vm, "simulated_ns") / 1e9);
  }

  private static String count(RunResult run, String vm, String key) {
    return ResultTable.number(run.summaryCount(vm, key));
  }

  /** Summary counters of the guest's boot structures and page cache, where its guests report them. */
  private static List<String> extraCounters(RunResult run, Map<Integer, String[]> pairs) {
    List<String> keys = new ArrayList<>();
    Iterator<String[]> it = pairs.values().iterator();
    if (!it.hasNext()) {
      return keys;
    }
    run.summary(it.next()[1]).fieldNames().forEachRemaining(k -> {
      if (k.startsWith("boot_") || k.startsWith("kernel_") || k.startsWith("page_cache")
          || k.startsWith("cache_")) {
        keys.add(k);
      }
    });
    return keys;
  }
}
