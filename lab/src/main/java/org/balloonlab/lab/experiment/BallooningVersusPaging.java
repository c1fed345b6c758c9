package org.balloonlab.lab.experiment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.balloonlab.lab.scenario.GuestSpec;

/**
 * Ballooning against hypervisor paging (Waldspurger, OSDI 2002, sections 3.2 and 3.3): the lab of
 * {@code balloonlab compare-paging} (its guests, workload and stall timeout), run twice on the lab clock, balloon
 * drivers enabled then disabled, for the same lab time. Each guest works as fast as its vCPU runs it; its
 * throughput is its accesses per second of its simulated time (its summary's {@code accesses} and
 * {@code simulated_ns}), beside its own faults, the hypervisor's page-ins for it and the double paging among them.
 * (The runs have a fixed length rather than a fixed amount of work so that no guest leaves the lab clock while it
 * runs, which would make the run not reproducible.)
 */
final class BallooningVersusPaging implements Experiment {
  @Override
  public String name() {
    return "ballooning-vs-paging";
  }

  @Override
  public List<String> runs() {
    return List.of("enabled", "disabled");
  }

  @Override
  public Map<String, String> metrics() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("enabled_tput", "mean accesses per simulated second of a guest, balloon drivers enabled");
    m.put("disabled_tput", "the same, drivers disabled (hypervisor paging)");
    m.put("tput_ratio", "enabled_tput / disabled_tput: above 1, ballooning is faster");
    m.put("min_vm_ratio", "the least per-VM ratio of its throughput with ballooning to that with paging");
    m.put("double_paging_enabled", "double paging over every guest, drivers enabled");
    m.put("double_paging_disabled", "double paging over every guest, drivers disabled");
    m.put("host_page_ins_enabled", "hypervisor page-ins over every guest, drivers enabled");
    m.put("host_page_ins_disabled", "hypervisor page-ins over every guest, drivers disabled");
    return m;
  }

  @Override
  public Analysis analyse(ExperimentDefinition def, Map<String, RunResult> runs) {
    RunResult on = runs.get("enabled");
    RunResult off = runs.get("disabled");
    List<String> vms = def.runs().get(0).scenario().guests().stream().map(GuestSpec::name).toList();
    List<List<String>> rows = new ArrayList<>();
    double sumOn = 0;
    double sumOff = 0;
    double minRatio = Double.NaN;
    double[] x = new double[vms.size()];
    double[] yOn = new double[vms.size()];
    double[] yOff = new double[vms.size()];
    for (int i = 0; i < vms.size(); i++) {
      String vm = vms.get(i);
      double tOn = on.summaryCount(vm, "accesses") / (on.summaryCount(vm, "simulated_ns") / 1e9);
      double tOff = off.summaryCount(vm, "accesses") / (off.summaryCount(vm, "simulated_ns") / 1e9);
      sumOn += tOn;
      sumOff += tOff;
      double ratio = tOn / tOff;
      minRatio = Double.isNaN(minRatio) ? ratio : Math.min(minRatio, ratio);
      rows.add(List.of(vm, ResultTable.number(tOn), n(on, vm, "true_faults"), n(on, vm, "host_page_ins"),
          n(on, vm, "double_paging"), ResultTable.number(tOff), n(off, vm, "true_faults"),
          n(off, vm, "host_page_ins"), n(off, vm, "double_paging")));
      x[i] = i + 1;
      yOn[i] = tOn;
      yOff[i] = tOff;
    }
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("enabled_tput", sumOn / vms.size());
    m.put("disabled_tput", sumOff / vms.size());
    m.put("tput_ratio", sumOn / sumOff);
    m.put("min_vm_ratio", minRatio);
    m.put("double_paging_enabled", total(on, vms, "double_paging"));
    m.put("double_paging_disabled", total(off, vms, "double_paging"));
    m.put("host_page_ins_enabled", total(on, vms, "host_page_ins"));
    m.put("host_page_ins_disabled", total(off, vms, "host_page_ins"));
    ResultTable table = new ResultTable("per-vm", "Per VM: throughput and what it paid, drivers enabled against disabled",
        List.of("vm", "enabled: accesses/s", "guest faults", "hv page-ins", "double paging", "disabled: accesses/s",
            "guest faults", "hv page-ins", "double paging"), rows);
    ExperimentChart chart = new ExperimentChart("Ballooning against hypervisor paging: throughput per VM",
        "VM (1, 2, 3)", "accesses per simulated s", List.of(new ExperimentChart.Series("drivers enabled", x, yOn),
            new ExperimentChart.Series("drivers disabled", x, yOff)), List.of());
    return new Analysis(m, List.of(table), chart);
  }

  private static String n(RunResult run, String vm, String key) {
    return ResultTable.number(run.summaryCount(vm, key));
  }

  private static double total(RunResult run, List<String> vms, String key) {
    double t = 0;
    for (String vm : vms) {
      t += run.summaryCount(vm, key);
    }
    return t;
  }
}
