package org.balloonlab.lab.experiment;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.balloonlab.lab.scenario.GuestSpec;

/**
 * Ballooning against hypervisor paging (Waldspurger, OSDI 2002, sections 3.2 and 3.3): the lab of
 * {@code balloonlab compare-paging} (its guests, workload and stall timeout), run twice on the lab clock, balloon
 * drivers enabled then disabled. Each guest does a fixed amount of work; what it paid is the simulated time its
 * work took (its summary's {@code simulated_ns}), its own faults, the hypervisor's page-ins for it and the double
 * paging among them.
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
    m.put("enabled_mean_s", "mean simulated seconds a guest took for its work, balloon drivers enabled");
    m.put("disabled_mean_s", "the same, drivers disabled (hypervisor paging)");
    m.put("time_ratio", "disabled_mean_s / enabled_mean_s: above 1, ballooning is faster");
    m.put("min_vm_ratio", "the least per-VM ratio of the disabled run's time to the enabled run's");
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
      double tOn = on.summaryCount(vm, "simulated_ns") / 1e9;
      double tOff = off.summaryCount(vm, "simulated_ns") / 1e9;
      sumOn += tOn;
      sumOff += tOff;
      double ratio = tOff / tOn;
      minRatio = Double.isNaN(minRatio) ? ratio : Math.min(minRatio, ratio);
      rows.add(List.of(vm, ResultTable.number(tOn), n(on, vm, "true_faults"), n(on, vm, "host_page_ins"),
          n(on, vm, "double_paging"), ResultTable.number(tOff), n(off, vm, "true_faults"),
          n(off, vm, "host_page_ins"), n(off, vm, "double_paging")));
      x[i] = i + 1;
      yOn[i] = tOn;
      yOff[i] = tOff;
    }
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("enabled_mean_s", sumOn / vms.size());
    m.put("disabled_mean_s", sumOff / vms.size());
    m.put("time_ratio", sumOff / sumOn);
    m.put("min_vm_ratio", minRatio);
    m.put("double_paging_enabled", total(on, vms, "double_paging"));
    m.put("double_paging_disabled", total(off, vms, "double_paging"));
    m.put("host_page_ins_enabled", total(on, vms, "host_page_ins"));
    m.put("host_page_ins_disabled", total(off, vms, "host_page_ins"));
    ResultTable table = new ResultTable("per-vm", "Per VM: what its work cost, drivers enabled against disabled",
        List.of("vm", "enabled: sim s", "guest faults", "hv page-ins", "double paging", "disabled: sim s",
            "guest faults", "hv page-ins", "double paging"), rows);
    ExperimentChart chart = new ExperimentChart("Ballooning against hypervisor paging: time for the same work",
        "VM (1, 2, 3)", "simulated s", List.of(new ExperimentChart.Series("drivers enabled", x, yOn),
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
