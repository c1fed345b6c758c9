package org.balloonlab.lab.experiment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.balloonlab.lab.report.VmSample;
import org.balloonlab.lab.scenario.ScheduledAction;

/**
 * The idle memory tax (Waldspurger, OSDI 2002, Fig. 7): two VMs of equal shares, vm1 active and vm2 idle but
 * holding memory; tau 0 at first, changed to 0.75 mid-run by the scenario's schedule, as the paper did.
 *
 * <p>Before the change (the second half of the tau 0 phase) memory should follow shares, an even split; after it
 * the idle VM is taxed and the active one gains memory and does more work per lab second. Throughput is vm1's
 * accesses per lab second over a window (from the per-sample access counts); the shift's speed is the lab time from
 * the change until vm1's mapped memory first covers 90 % of its gain.
 */
final class IdleMemoryTax implements Experiment {
  @Override
  public String name() {
    return "fig7";
  }

  @Override
  public List<String> runs() {
    return List.of("tau-change");
  }

  @Override
  public Map<String, String> metrics() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("change_s", "lab time of the change of tau (from the scenario's schedule), s");
    m.put("before_vm1_mib", "vm1's (active) mapped memory, mean over the second half of the tau 0 phase, MiB");
    m.put("before_vm2_mib", "vm2's (idle) mapped memory, same window, MiB");
    m.put("split_before", "before_vm1_mib / before_vm2_mib: 1 is an even split, as equal shares ask");
    m.put("after_vm1_mib", "vm1's mapped memory, mean over the second half of the tau 0.75 phase, MiB");
    m.put("after_vm2_mib", "vm2's mapped memory, same window, MiB");
    m.put("shift_s", "lab seconds from the change until vm1's memory first covers 90 % of its gain");
    m.put("throughput_before", "vm1's accesses per lab second, second half of the tau 0 phase");
    m.put("throughput_after", "vm1's accesses per lab second, second half of the tau 0.75 phase");
    m.put("speedup", "throughput_after / throughput_before: how much sooner a fixed amount of work finishes");
    return m;
  }

  @Override
  public Analysis analyse(ExperimentDefinition def, Map<String, RunResult> runs) {
    RunResult run = runs.get("tau-change");
    double change = def.runs().get(0).scenario().actions().stream()
        .filter(a -> a.kind() == ScheduledAction.Kind.TAU).mapToDouble(a -> a.at().toMillis() / 1000.0)
        .min().orElse(Double.NaN);
    List<VmSample> vm1 = run.of("vm1");
    List<VmSample> vm2 = run.of("vm2");
    double end = vm1.isEmpty() ? 0 : vm1.get(vm1.size() - 1).labSeconds();
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("change_s", change);
    double b1 = meanMapped(vm1, change / 2, change);
    double b2 = meanMapped(vm2, change / 2, change);
    double a1 = meanMapped(vm1, change + (end - change) / 2, end);
    m.put("before_vm1_mib", b1);
    m.put("before_vm2_mib", b2);
    m.put("split_before", b1 / b2);
    m.put("after_vm1_mib", a1);
    m.put("after_vm2_mib", meanMapped(vm2, change + (end - change) / 2, end));
    m.put("shift_s", shift(vm1, change, b1, a1));
    double before = throughput(vm1, change / 2, change);
    double after = throughput(vm1, change + (end - change) / 2, end);
    m.put("throughput_before", before);
    m.put("throughput_after", after);
    m.put("speedup", after / before);

    List<List<String>> rows = new ArrayList<>();
    List<Double> times = new ArrayList<>();
    for (int i = 0; i < vm1.size(); i++) {
      VmSample s1 = vm1.get(i);
      VmSample s2 = i < vm2.size() ? vm2.get(i) : null;
      double rate = i == 0 ? Double.NaN
          : (s1.accesses() - vm1.get(i - 1).accesses()) / (s1.labSeconds() - vm1.get(i - 1).labSeconds());
      rows.add(List.of(ResultTable.number(s1.labSeconds()), s1.labSeconds() < change ? "0" : "0.75",
          ResultTable.number(RunResult.mib(s1.mappedPages())),
          s2 == null ? "-" : ResultTable.number(RunResult.mib(s2.mappedPages())),
          s2 == null ? "-" : ResultTable.number(RunResult.mib(s2.balloonPages())),
          ResultTable.number(Math.round(rate)), Long.toString(s1.guestFaults())));
      times.add(s1.labSeconds());
    }
    ResultTable series = new ResultTable("memory-over-time", "Each VM's memory over lab time (tau changes at "
        + ResultTable.number(change) + " s)", List.of("lab s", "tau", "vm1 (active) mapped MiB",
        "vm2 (idle) mapped MiB", "vm2 balloon MiB", "vm1 accesses/s", "vm1 guest faults"), rows);
    double[] x = times.stream().mapToDouble(Double::doubleValue).toArray();
    ExperimentChart chart = new ExperimentChart("Idle memory tax: tau 0, then 0.75", "lab time (s)", "mapped (MiB)",
        List.of(new ExperimentChart.Series("vm1 (active)", x, vm1.stream()
                .mapToDouble(s -> RunResult.mib(s.mappedPages())).toArray()),
            new ExperimentChart.Series("vm2 (idle)", vm2.stream().mapToDouble(VmSample::labSeconds).toArray(),
                vm2.stream().mapToDouble(s -> RunResult.mib(s.mappedPages())).toArray())),
        List.of(new ExperimentChart.Mark(change, "tau 0.75")));
    return new Analysis(m, List.of(series), chart);
  }

  static double meanMapped(List<VmSample> samples, double from, double to) {
    return samples.stream().filter(s -> s.labSeconds() >= from && s.labSeconds() <= to)
        .mapToDouble(s -> RunResult.mib(s.mappedPages())).average().orElse(Double.NaN);
  }

  /** Accesses per lab second between the first sample at or after {@code from} and the last at or before {@code to}. */
  static double throughput(List<VmSample> samples, double from, double to) {
    VmSample first = null;
    VmSample last = null;
    for (VmSample s : samples) {
      if (s.labSeconds() >= from && s.labSeconds() <= to) {
        first = first == null ? s : first;
        last = s;
      }
    }
    if (first == null || last == first) {
      return Double.NaN;
    }
    return (last.accesses() - first.accesses()) / (last.labSeconds() - first.labSeconds());
  }

  /** Lab seconds from the change until the memory first covers 90 % of the way from {@code before} to {@code after}. */
  static double shift(List<VmSample> samples, double change, double before, double after) {
    double goal = before + 0.9 * (after - before);
    for (VmSample s : samples) {
      if (s.labSeconds() >= change && RunResult.mib(s.mappedPages()) >= goal) {
        return s.labSeconds() - change;
      }
    }
    return Double.NaN;
  }
}
