package org.balloonlab.lab.experiment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.balloonlab.lab.report.VmSample;
import org.balloonlab.lab.scenario.GuestSpec;

/**
 * Shares and min (Waldspurger, OSDI 2002, sections 5.1 and 5.2): under memory pressure, memory is split by shares,
 * and no VM is reclaimed below its min. One run: vm1 with twice vm2's shares, vm3 with vm2's shares and a min
 * above what its shares alone would give it, all three busy over nearly all their memory.
 *
 * <p>A VM's memory here is what its pages mapped to machine frames hold, averaged over the last quarter of the
 * run (after the policy has settled); a VM's allotment is its configured memory less its balloon target and what
 * the hypervisor has paged out of it, the least it had at any sample after the first quarter.
 */
final class SharesAndMin implements Experiment {
  @Override
  public String name() {
    return "shares-and-min";
  }

  @Override
  public Map<String, String> metrics() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("share_ratio", "vm1's memory over vm2's (their shares are 2:1), last quarter of the run");
    m.put("vm1_mib", "vm1's memory, MiB, last quarter");
    m.put("vm2_mib", "vm2's memory, MiB, last quarter");
    m.put("vm3_mib", "vm3's memory, MiB, last quarter");
    m.put("vm3_min_mib", "vm3's min, MiB (from the scenario)");
    m.put("vm3_min_margin_mib", "vm3's least allotment after the first quarter less its min, MiB (>= 0: honoured)");
    return m;
  }

  @Override
  public Analysis analyse(ExperimentDefinition def, Map<String, RunResult> runs) {
    RunResult run = runs.get(SINGLE_RUN);
    ExperimentDefinition.Run spec = def.runs().get(0);
    double end = run.samples().stream().mapToDouble(VmSample::labSeconds).max().orElse(0);
    Map<String, Double> metrics = new LinkedHashMap<>();
    double vm1 = settled(run, "vm1", end);
    double vm2 = settled(run, "vm2", end);
    metrics.put("vm1_mib", vm1);
    metrics.put("vm2_mib", vm2);
    metrics.put("vm3_mib", settled(run, "vm3", end));
    metrics.put("share_ratio", vm2 > 0 ? vm1 / vm2 : Double.NaN);
    GuestSpec vm3 = spec.scenario().guest("vm3").orElseThrow();
    double min = vm3.min() == null ? 0 : vm3.min().bytes() / (double) (1 << 20);
    metrics.put("vm3_min_mib", min);
    double least = Double.NaN;
    for (VmSample s : run.of("vm3")) {
      if (s.labSeconds() >= end / 4) {
        double allotment = RunResult.mib(s.configuredPages() - s.balloonTargetPages() - s.hostSwappedPages());
        least = Double.isNaN(least) ? allotment : Math.min(least, allotment);
      }
    }
    metrics.put("vm3_min_margin_mib", least - min);

    List<List<String>> rows = new ArrayList<>();
    List<ExperimentChart.Series> series = new ArrayList<>();
    for (GuestSpec g : spec.scenario().guests()) {
      List<VmSample> samples = run.of(g.name());
      rows.add(List.of(g.name(), g.memory().toString(), g.shares() == null ? "1000" : g.shares().toString(),
          g.min() == null ? "0" : g.min().toString(), ResultTable.number(settled(run, g.name(), end)),
          samples.isEmpty() ? "-" : ResultTable.number(RunResult.mib(samples.get(samples.size() - 1)
              .balloonPages()))));
      series.add(new ExperimentChart.Series(g.name() + " mapped", samples.stream()
          .mapToDouble(VmSample::labSeconds).toArray(), samples.stream()
          .mapToDouble(s -> RunResult.mib(s.mappedPages())).toArray()));
    }
    ResultTable vms = new ResultTable("vms", "Each VM at the end of the run",
        List.of("vm", "memory", "shares", "min", "mapped MiB (last quarter)", "balloon MiB (end)"), rows);
    ExperimentChart chart = new ExperimentChart("Shares and min: memory per VM", "lab time (s)",
        "mapped (MiB)", series, List.of());
    return new Analysis(metrics, List.of(vms), chart);
  }

  /** The VM's mapped memory in MiB, averaged over the samples of the last quarter of the run. */
  static double settled(RunResult run, String vm, double end) {
    return run.of(vm).stream().filter(s -> s.labSeconds() >= end * 0.75)
        .mapToDouble(s -> RunResult.mib(s.mappedPages())).average().orElse(Double.NaN);
  }
}
