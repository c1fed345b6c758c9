package org.balloonlab.lab.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.balloonlab.lab.report.ReportWriter;
import org.balloonlab.lab.report.TimeSeriesCsv;
import org.balloonlab.lab.report.VmSample;

/**
 * One run of an experiment as its run folder holds it: the {@code report.json} and {@code timeseries.csv} that
 * {@code balloonlab run} writes, read back.
 *
 * @param label the run's label in the experiment's definition
 * @param dir the run's folder
 * @param report its {@code report.json}
 * @param samples its time series, in order
 * @param wallSeconds how long it took on this machine (wall time: for the docs, never for a result)
 */
public record RunResult(String label, Path dir, JsonNode report, List<VmSample> samples, double wallSeconds) {

  public RunResult {
    samples = List.copyOf(samples);
  }

  /** Reads a run's folder. @throws IOException if its report or time series is missing or unreadable */
  public static RunResult read(String label, Path dir, double wallSeconds) throws IOException {
    JsonNode report = ReportWriter.parse(Files.readString(dir.resolve(ReportWriter.JSON), StandardCharsets.UTF_8));
    return new RunResult(label, dir, report, readSamples(dir.resolve(ReportWriter.CSV)), wallSeconds);
  }

  /** Reads a {@code timeseries.csv} as {@link TimeSeriesCsv} writes it. */
  static List<VmSample> readSamples(Path csv) throws IOException {
    List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
    if (lines.isEmpty() || !lines.get(0).equals(TimeSeriesCsv.HEADER)) {
      throw new IOException(csv + ": not a time series of this version (its header differs)");
    }
    List<VmSample> samples = new ArrayList<>();
    for (int i = 1; i < lines.size(); i++) {
      String[] c = lines.get(i).split(",", -1);
      if (c.length != 17) {
        throw new IOException(csv + ":" + (i + 1) + ": " + c.length + " cells, expected 17");
      }
      try {
        samples.add(new VmSample(Double.parseDouble(c[0]), c[1], Long.parseLong(c[2]), Long.parseLong(c[3]),
            Long.parseLong(c[4]), Long.parseLong(c[5]), Long.parseLong(c[6]), Long.parseLong(c[7]),
            Long.parseLong(c[8]), Long.parseLong(c[9]), Long.parseLong(c[10]), Long.parseLong(c[11]),
            Double.parseDouble(c[12]), Long.parseLong(c[13]), c[14], Long.parseLong(c[15]),
            Long.parseLong(c[16])));
      } catch (NumberFormatException e) {
        throw new IOException(csv + ":" + (i + 1) + ": not a number where one belongs", e);
      }
    }
    return samples;
  }

  /** Pages in MiB. */
  public static double mib(long pages) {
    return pages * 4096.0 / (1 << 20);
  }

  /** The samples of one VM, in order of lab time. */
  public List<VmSample> of(String vm) {
    return samples.stream().filter(s -> s.vm().equals(vm)).toList();
  }

  /** The guest's summary counters at its end ({@code report.json} vms.NAME.guest_summary), or empty. */
  public JsonNode summary(String vm) {
    return report.path("vms").path(vm).path("guest_summary");
  }

  /** A counter of the guest's summary; NaN when the guest printed none (it did not end cleanly). */
  public double summaryCount(String vm, String key) {
    JsonNode v = summary(vm).get(key);
    return v == null || !v.isNumber() ? Double.NaN : v.asDouble();
  }

  /** The VM's last state as the hypervisor reported it ({@code vms.NAME.last_state}), or missing. */
  public JsonNode lastState(String vm) {
    return report.path("vms").path(vm).path("last_state");
  }

  /** Integrity and isolation violations over every guest's summary. */
  public long violations() {
    long v = 0;
    for (Map.Entry<String, JsonNode> e : vms().entrySet()) {
      JsonNode s = e.getValue().path("guest_summary");
      v += s.path("integrity_violations").asLong() + s.path("isolation_violations").asLong();
    }
    return v;
  }

  /** Whether the lab clock says this run is reproducible. */
  public boolean reproducible() {
    return report.path("reproducible").asBoolean(false);
  }

  private Map<String, JsonNode> vms() {
    Map<String, JsonNode> m = new LinkedHashMap<>();
    report.path("vms").fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue()));
    return m;
  }
}
