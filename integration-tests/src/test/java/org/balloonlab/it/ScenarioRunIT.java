package org.balloonlab.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.balloonlab.lab.JvmProcess;
import org.balloonlab.lab.LabRun;
import org.balloonlab.lab.report.ReportWriter;
import org.balloonlab.lab.report.TimeSeriesCsv;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The launcher end to end: {@code balloonlab run} as a child JVM, which starts a hypervisor and guests as JVMs
 * of its own, applies a scenario's schedule and writes the report. Checks the report against what the schedule
 * did, and that no process outlives the run: at its end, after Ctrl-C, and after a guest is killed mid-run.
 */
class ScenarioRunIT {
  private LabRuns runs;

  @BeforeEach
  void setUp() throws IOException {
    runs = new LabRuns(Path.of("target", "it-scenarios"));
  }

  @AfterEach
  void killLeftovers() {
    runs.close();
  }

  private Path scenario(String name, String yaml) throws IOException {
    return runs.scenario(name, yaml);
  }

  private JvmProcess launch(String name, Path scenario, Path runDir) throws IOException {
    return runs.start(name, "run", scenario.toString(), "--run-dir", runDir.toString(), "--plain");
  }

  private void awaitChildren(JvmProcess launcher, int processes) {
    runs.awaitChildren(launcher, processes);
  }

  private int awaitEnd(JvmProcess launcher, int seconds) throws InterruptedException {
    return runs.awaitEnd(launcher, Duration.ofSeconds(seconds));
  }

  private void assertNothingLeft() {
    runs.assertNothingLeft();
  }

  @Test
  void aScheduledDriverFaultShowsInTheReport() throws Exception {
    // vm2 is the biggest and busiest guest on a machine smaller than the two: with its driver disabled, only
    // hypervisor paging can make room, and it pages vm2.
    Path file = scenario("driver-fault", """
        # Driver fault: vm2's balloon driver is disabled at 4 s; the hypervisor must page vm2. Targets by hand
        # (policy manual), so that only the scheduled target asks vm2's balloon for anything.
        name: driver-fault
        duration: 10s
        hypervisor: {memory: 64MiB, seed: 1, policy: manual}
        guests:
          - {name: vm1, memory: 48MiB, workload: "hotset:footprint=24MiB,rate=100000", seed: 1}
          - {name: vm2, memory: 128MiB, workload: "uniform:footprint=72MiB,ramp=800000,rate=100000", seed: 2}
        schedule:
          - {at: 4s, action: driver, vm: vm2, mode: disabled}
          - {at: 5s, action: balloon, vm: vm2, target: 32MiB}
        report: {interval: 500ms}
        """);
    Path runDir = runs.work().resolve("run-driver-fault");
    JvmProcess launcher = launch("driver-fault", file, runDir);
    awaitChildren(launcher, 3);
    assertEquals(0, awaitEnd(launcher, 90), String.join("\n", launcher.lines()));
    assertNothingLeft();
    assertEquals(runDir.toString(), launcher.lineStartingWith(LabRun.REPORT));

    JsonNode report = LabRuns.report(runDir);
    assertEquals("driver-fault", report.path("scenario").path("name").asText());
    assertTrue(report.path("vms").has("vm1") && report.path("vms").has("vm2"), report.path("vms").toString());
    assertEquals(0, report.path("vms").path("vm2").path("guest_summary").path("integrity_violations").asLong(-1));
    JsonNode fault = report.path("actions").get(0);
    assertEquals("driver vm2 disabled", fault.path("action").asText());
    assertTrue(fault.path("outcome").asText().startsWith("ok"), fault.toString());
    double faultAt = fault.path("lab_time_ns").asLong() / 1e9;
    assertEquals(4.0, faultAt, "applied at its lab time");
    assertTrue(eventKinds(report).contains("driver_mode_changed"), report.path("events").toString());

    // The time series: vm2's host page-outs go on growing after the fault.
    List<String[]> vm2 = rows(runDir, "vm2");
    int pageOuts = column("host_page_outs");
    long atFault = vm2.stream().filter(r -> Double.parseDouble(r[0]) <= faultAt)
        .mapToLong(r -> Long.parseLong(r[pageOuts])).max().orElse(0);
    long atEnd = Long.parseLong(vm2.get(vm2.size() - 1)[pageOuts]);
    assertTrue(atEnd > atFault, "vm2's host page-outs after the fault: " + atFault + " at " + faultAt + "s, "
        + atEnd + " at the end");
    int swapped = column("host_swapped_pages");
    assertTrue(vm2.stream().filter(r -> Double.parseDouble(r[0]) > faultAt)
        .anyMatch(r -> Long.parseLong(r[swapped]) > 0), "vm2 has pages in host swap after the fault");
    int balloon = column("balloon_pages");
    assertTrue(vm2.stream().filter(r -> Double.parseDouble(r[0]) > faultAt + 1)
        .allMatch(r -> Long.parseLong(r[balloon]) == 0), "the disabled driver never inflated toward 64MiB");

    for (String plot : List.of(ReportWriter.MEMORY_PLOT, ReportWriter.FAULTS_PLOT)) {
      BufferedImage image = ImageIO.read(runDir.resolve(plot).toFile());
      assertNotNull(image, plot + " is a valid image");
      assertTrue(image.getWidth() > 100 && image.getHeight() > 100);
    }
  }

  @Test
  void ctrlCStopsEveryProcessAndStillWritesTheReport() throws Exception {
    Path file = scenario("interrupted", """
        # A long run, interrupted; at pace 1x its lab time runs no faster than the wall clock.
        duration: 120s
        hypervisor: {memory: 64MiB, pace: 1x}
        guests:
          - {name: vm1, memory: 48MiB, workload: "hotset:footprint=32MiB,rate=100000"}
          - {name: vm2, memory: 48MiB, workload: "uniform:footprint=32MiB,rate=100000"}
        """);
    Path runDir = runs.work().resolve("run-interrupted");
    JvmProcess launcher = launch("interrupted", file, runDir);
    awaitChildren(launcher, 3);
    await("the first sample").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> launcher.lines().stream().anyMatch(l -> l.contains("machine: free")) || !launcher.isAlive());
    Process kill = new ProcessBuilder("kill", "-INT", Long.toString(launcher.pid())).inheritIO().start();
    assertEquals(0, kill.waitFor());
    awaitEnd(launcher, 60);
    assertNothingLeft();
    JsonNode report = LabRuns.report(runDir);
    assertEquals("interrupted (Ctrl-C)", report.path("run").path("stopped_by").asText());
    assertTrue(report.path("run").path("lab_time_ns").asLong() < 100_000_000_000L, "it stopped early");
    assertTrue(report.path("vms").has("vm1"));
  }

  @Test
  void aGuestKilledMidRunLeavesNothingBehind() throws Exception {
    Path file = scenario("killed", """
        # vm1's JVM is killed at 2 s and vm3 is powered off at 3 s; the hypervisor frees their frames, the run
        # goes on with vm2.
        duration: 6s
        hypervisor: {memory: 64MiB}
        guests:
          - {name: vm1, memory: 48MiB, workload: "hotset:footprint=32MiB,rate=100000"}
          - {name: vm2, memory: 48MiB, workload: "uniform:footprint=32MiB,rate=100000"}
          - {name: vm3, memory: 16MiB, workload: "uniform:footprint=8MiB,rate=100000"}
        schedule:
          - {at: 2s, action: kill, vm: vm1}
          - {at: 3s, action: poweroff, vm: vm3}
        report: {interval: 500ms}
        """);
    Path runDir = runs.work().resolve("run-killed");
    JvmProcess launcher = launch("killed", file, runDir);
    awaitChildren(launcher, 4);
    assertEquals(0, awaitEnd(launcher, 60), String.join("\n", launcher.lines()));
    assertNothingLeft();
    JsonNode report = LabRuns.report(runDir);
    JsonNode poweroff = report.path("actions").get(1);
    assertTrue(poweroff.path("outcome").asText().startsWith("ok: powered off"), poweroff.toString());
    String vm3Said = Files.readString(runDir.resolve("vm3.err.log"));
    assertTrue(vm3Said.contains("vm3 was powered off by the hypervisor")
        && vm3Said.contains("powered off by the operator"), vm3Said);
    assertTrue(report.path("vms").path("vm3").path("stopped_by_schedule").asBoolean());
    JsonNode kill = report.path("actions").get(0);
    assertTrue(kill.path("outcome").asText().startsWith("ok: killed"), kill.toString());
    assertTrue(report.path("vms").path("vm1").path("stopped_by_schedule").asBoolean());
    assertTrue(eventKinds(report).contains("vm_released"), "the hypervisor released vm1 when its stream broke");
    assertTrue(hasEvent(report, "vm_powered_off", "vm3", "by the operator"), report.path("events").toString());
    List<String[]> vm1 = rows(runDir, "vm1");
    assertFalse(vm1.isEmpty());
    assertTrue(Double.parseDouble(vm1.get(vm1.size() - 1)[0]) < 4, "vm1 is no longer sampled once killed");
    assertTrue(Double.parseDouble(rows(runDir, "vm2").get(rows(runDir, "vm2").size() - 1)[0]) >= 5,
        "vm2 ran on to the end");
  }

  private static List<String> eventKinds(JsonNode report) {
    List<String> kinds = new ArrayList<>();
    report.path("events").forEach(e -> kinds.add(e.path("kind").asText()));
    return kinds;
  }

  private static boolean hasEvent(JsonNode report, String kind, String vm, String text) {
    for (JsonNode e : report.path("events")) {
      if (e.path("kind").asText().equals(kind) && e.path("vm").asText().equals(vm)
          && e.path("message").asText().contains(text)) {
        return true;
      }
    }
    return false;
  }

  private static int column(String name) {
    return List.of(TimeSeriesCsv.HEADER.split(",")).indexOf(name);
  }

  private static List<String[]> rows(Path runDir, String vm) throws IOException {
    List<String> lines = Files.readAllLines(runDir.resolve(ReportWriter.CSV));
    assertEquals(TimeSeriesCsv.HEADER, lines.get(0));
    return lines.stream().skip(1).map(l -> l.split(",")).filter(r -> r[1].equals(vm)).toList();
  }
}
