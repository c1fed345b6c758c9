package org.balloonlab.lab.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.balloonlab.lab.report.VmSample;
import org.balloonlab.lab.scenario.GuestSpec;
import org.balloonlab.units.MemorySize;
import org.junit.jupiter.api.Test;

/** What the page-sharing experiment counts as identical by configuration, and its curve from a made-up run. */
class PageSharingBestCaseTest {

  private static GuestSpec guest(String name, String osKind, String workload) {
    return new GuestSpec(name, MemorySize.parse("10MiB"), null, null, null, List.of(workload), null, null, null,
        true, null, null, null, null, osKind, null, null);
  }

  /** A report whose guests each booted 320 image pages and filled 1024 data-set pages. */
  private static RunResult run(String... vms) {
    ObjectNode report = JsonNodeFactory.instance.objectNode();
    ObjectNode v = report.putObject("vms");
    for (String vm : vms) {
      v.putObject(vm).putObject("guest_summary").put("image_pages", 320).put("data_set_fills", 1024);
    }
    return new RunResult("r", Path.of("."), report, List.of(), 0);
  }

  @Test
  void zeroRegionsCountPerProcess() {
    assertEquals(256, PageSharingBestCase.zeroPages(guest("a", null, "uniform:footprint=8MiB,zero=1MiB")));
    assertEquals(0, PageSharingBestCase.zeroPages(guest("a", null, "uniform:footprint=8MiB,data=1MiB")));
  }

  @Test
  void imageAndDataSetCountOnlyWhenAnotherGuestHoldsTheSame() {
    String shared = "uniform:footprint=8MiB,data-set=spec,data=4MiB,zero=1MiB";
    List<GuestSpec> same = List.of(guest("a", null, shared), guest("b", "linux", shared));
    assertEquals(2 * (320 + 1024 + 256), PageSharingBestCase.identicalPages(same, run("a", "b")));

    List<GuestSpec> mixed = List.of(guest("a", "linux", "uniform:footprint=8MiB,data-set=x,data=4MiB,zero=1MiB"),
        guest("b", "windows", "uniform:footprint=8MiB,data-set=y,data=4MiB,zero=1MiB"));
    assertEquals(2 * 256, PageSharingBestCase.identicalPages(mixed, run("a", "b")));
  }

  /** Machine counters at a run's end, as report.json has them. */
  private static RunResult ended(String label, List<VmSample> samples, long mapped, long refs, long saved,
                                 String... vms) {
    RunResult r = run(vms);
    ObjectNode machine = ((ObjectNode) r.report()).putObject("machine");
    machine.put("machineFrames", 32768).put("mappedFrames", mapped);
    machine.putObject("sharing").put("sharedReferences", refs).put("savedFrames", saved)
        .put("sharedFrames", refs - saved).put("tableBytes", 655360);
    return new RunResult(label, Path.of("."), r.report(), samples, 0);
  }

  private static VmSample sample(double t, String vm, long mapped, long shared, long free) {
    return new VmSample(t, vm, 2560, mapped, 0, 0, 0, 0, 0, 0, 0, 0, t, free, "high", 0, shared);
  }

  @Test
  void theSeriesGivesOnePointPerVmAndTheEndGivesThePapersFigures() throws Exception {
    ExperimentDefinition def = DefinitionParser.parse(Path.of("..", "experiments", "page-sharing"),
        new PageSharingBestCase()).reducedTo(2);
    // vm1 alone: 2408 mapped, its 256 zero pages on one frame. Then both: 1600 of each VM's pages shared, 1345
    // frames (the zero frame and 1344 identical pages), 1855 saved.
    List<VmSample> series = new ArrayList<>();
    for (double t = 0.5; t < 3; t += 0.5) {
      series.add(sample(t, "vm1", 2408, 256, 32768 - 2408 + 255));
    }
    for (double t = 3; t <= 6; t += 0.5) {
      series.add(sample(t, "vm1", 2408, t == 3 ? 256 : 1600, 32768 - 4816 + 1855));
      series.add(sample(t, "vm2", t == 3 ? 0 : 2408, t == 3 ? 0 : 1600, 32768 - 4816 + 1855));
    }
    Map<String, RunResult> runs = Map.of(
        "series", ended("series", series, 4816, 3200, 1855, "vm1", "vm2"),
        "mixed", ended("mixed", List.of(), 4816, 512, 511, "vm1", "vm2"));
    Experiment.Analysis a = new PageSharingBestCase().analyse(def, runs);
    assertEquals(100.0 * 256 / 2408, a.metrics().get("vms_1_shared_pct"), 1e-9);
    assertEquals(100.0 * 255 / 2408, a.metrics().get("vms_1_reclaimed_pct"), 1e-9);
    assertEquals(100.0 * 3200 / 4816, a.metrics().get("vms_2_shared_pct"), 1e-9);
    assertEquals(100.0 * 1855 / 4816, a.metrics().get("vms_2_reclaimed_pct"), 1e-9);
    assertTrue(a.metrics().get("vms_3_reclaimed_pct").isNaN(), "a reduced run has no third VM");
    assertEquals(2, a.metrics().get("series_vms"));
    assertEquals(1, a.metrics().get("series_monotone"));
    assertEquals(0, a.metrics().get("series_settle"));
    assertEquals(100.0 * 3200 / 4816, a.metrics().get("identical_shared_pct"), 1e-9);
    assertEquals(100.0 * 511 / 4816, a.metrics().get("mixed_reclaimed_pct"), 1e-9);
    assertEquals(1855.0 / 511, a.metrics().get("saved_ratio"), 1e-9);
    assertEquals(List.of("series", "sharing"), a.tables().stream().map(ResultTable::name).toList());
    ResultTable curve = a.tables().get(0);
    assertEquals(2, curve.rows().size());
    // VMs, lab time, mapped MiB, identical by configuration %: zero pages alone for one VM, all of it for two.
    assertEquals(List.of("1", "2.5", "9.406", "10.631"), curve.rows().get(0).subList(0, 4));
    assertEquals(List.of("2", "6", "18.813", "66.445"), curve.rows().get(1).subList(0, 4));
    assertEquals(List.of("plot-mib.png", "plot-time.png"), List.copyOf(a.morePlots().keySet()));
  }
}
