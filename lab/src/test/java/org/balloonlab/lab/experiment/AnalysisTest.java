package org.balloonlab.lab.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.balloonlab.lab.report.TimeSeriesCsv;
import org.balloonlab.lab.report.VmSample;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The experiments' arithmetic on a made-up time series, and the time series read back as it was written. */
class AnalysisTest {
  @TempDir
  Path dir;

  private static final long MIB = 256;

  /** vm1 holds 40 MiB until 60 s, 50 MiB from 65 s, 55 MiB from 70 s; 1000 accesses/s, then 2000/s from 60 s. */
  private static List<VmSample> series() {
    List<VmSample> list = new ArrayList<>();
    long accesses = 0;
    for (int t = 0; t <= 120; t += 5) {
      long mapped = t < 65 ? 40 * MIB : t < 70 ? 50 * MIB : 55 * MIB;
      list.add(new VmSample(t, "vm1", 64 * MIB, mapped, 0, 0, 0, 0, 0, 0, 0, 0, t, 0, "high", accesses));
      list.add(new VmSample(t, "vm2", 64 * MIB, 100 * MIB - mapped, 0, 0, 0, 0, 0, 0, 0, 0, t, 0, "high", 0));
      accesses += t < 60 ? 5000 : 10000;
    }
    return list;
  }

  @Test
  void throughputIsAccessesPerLabSecondOverTheWindow() {
    List<VmSample> vm1 = series().stream().filter(s -> s.vm().equals("vm1")).toList();
    assertEquals(1000, IdleMemoryTax.throughput(vm1, 30, 60), 1e-9);
    assertEquals(2000, IdleMemoryTax.throughput(vm1, 90, 120), 1e-9);
    assertTrue(Double.isNaN(IdleMemoryTax.throughput(vm1, 200, 300)), "no sample in the window");
  }

  @Test
  void theShiftIsTheTimeToNinetyPercentOfTheGain() {
    List<VmSample> vm1 = series().stream().filter(s -> s.vm().equals("vm1")).toList();
    assertEquals(40, IdleMemoryTax.meanMapped(vm1, 30, 60), 1e-9);
    // From 40 to 55 MiB: 90 % is 53.5 MiB, first reached at 70 s, 10 s after the change at 60 s.
    assertEquals(10, IdleMemoryTax.shift(vm1, 60, 40, 55), 1e-9);
    assertTrue(Double.isNaN(IdleMemoryTax.shift(vm1, 60, 40, 80)), "never reached");
  }

  @Test
  void settledMemoryIsTheLastQuarterMean() throws IOException {
    RunResult run = new RunResult("lab", dir, JsonNodeFactory.instance.objectNode(), series(), 1);
    assertEquals(55, SharesAndMin.settled(run, "vm1", 120), 1e-9);
    assertEquals(45, SharesAndMin.settled(run, "vm2", 120), 1e-9);
  }

  @Test
  void aTimeSeriesIsReadBackAsWritten() throws IOException {
    Path csv = dir.resolve("timeseries.csv");
    TimeSeriesCsv.write(csv, series());
    assertEquals(series(), RunResult.readSamples(csv));
    Files.writeString(csv, "lab_time_s,vm\n1,vm1\n");
    IOException e = assertThrows(IOException.class, () -> RunResult.readSamples(csv));
    assertTrue(e.getMessage().contains("header differs"), e.getMessage());
  }

  @Test
  void violationsAndReproducibilityComeFromTheReport() {
    ObjectNode report = JsonNodeFactory.instance.objectNode();
    report.put("reproducible", true);
    report.putObject("vms").putObject("vm1").putObject("guest_summary").put("accesses", 10)
        .put("integrity_violations", 2).put("isolation_violations", 1).put("simulated_ns", 5_000_000_000L);
    RunResult run = new RunResult("lab", dir, report, List.of(), 1);
    assertEquals(3, run.violations());
    assertTrue(run.reproducible());
    assertEquals(10, run.summaryCount("vm1", "accesses"));
    assertTrue(Double.isNaN(run.summaryCount("vm2", "accesses")), "a guest without a summary");
  }
}
