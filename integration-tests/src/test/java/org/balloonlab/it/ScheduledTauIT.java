package org.balloonlab.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.balloonlab.lab.report.ReportWriter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A scenario that changes the idle memory tax rate mid-run and switches a workload from idle to active on a
 * schedule, run twice by {@code balloonlab run} (separate JVMs): the report shows the change of tau as an action
 * and an event at its lab time, the idle VM's allocation moving to the busy one after it, and moving back once
 * the idle VM's workload turns active; the two runs give the same results, counter for counter.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScheduledTauIT {
  /**
   * Two 24 MiB VMs of equal shares on 32 MiB: both work at first; the sleeper's workload idles from 3 s to 16 s of
   * its simulated time, then works again. Tau is 0 (shares alone) until 8 s, then ESX's 0.75. Sampling every
   * second of simulated time so that the lab is short.
   */
  private static final String SCENARIO = """
      name: tau-switch
      duration: 24s
      hypervisor:
        memory: 32MiB
        tau: 0
        sample-period: 1s
        sample-gains: {fast: 0.5, slow: 0.25}
      guests:
        - name: busy
          memory: 24MiB
          shares: 1000
          workload: uniform:footprint=20MiB,rate=50000
          seed: 7
        - name: sleeper
          memory: 24MiB
          shares: 1000
          workload: uniform:footprint=20MiB,rate=50000,schedule=active:3s/idle:13s/active
          seed: 8
      schedule:
        - {at: 8s, action: tau, tau: 0.75}
      report: {interval: 1s, plots: false}
      """;
  private static final Duration RUN_LIMIT = Duration.ofMinutes(3);
  private static final long MIB_PAGES = 256;

  private LabRuns runs;
  private Path scenario;
  private Path firstDir;
  private ObjectNode first;

  @BeforeAll
  void runOnce() throws Exception {
    runs = new LabRuns(Path.of("target", "it-scheduled-tau"));
    scenario = runs.scenario("tau-switch", SCENARIO);
    firstDir = run("first");
    first = LabRuns.report(firstDir);
  }

  @AfterAll
  void cleanUp() {
    runs.close();
  }

  private Path run(String name) throws Exception {
    return runs.runToEnd(name, scenario, 3, RUN_LIMIT);
  }

  @Test
  void theReportShowsTheChangeOfTauAndTheAllocationsMoving() throws Exception {
    assertTrue(first.path("reproducible").asBoolean(), first.path("not_reproducible_because").toString());
    JsonNode action = first.path("actions").get(0);
    assertEquals("tau 0.75", action.path("action").asText());
    assertEquals(8_000_000_000L, action.path("lab_time_ns").asLong());
    assertTrue(action.path("outcome").asText().startsWith("ok:"), action.toString());
    JsonNode tauEvent = null;
    for (JsonNode e : first.path("events")) {
      if (e.path("kind").asText().equals("tau_changed")) {
        tauEvent = e;
      }
    }
    assertTrue(tauEvent != null, first.path("events").toString());
    assertEquals(8_000_000_000L, tauEvent.path("lab_time_ns").asLong(), "the change lands at its lab time");

    Map<String, long[]> at = series(firstDir);
    // Shares alone: equal shares, about equal memory, whatever the sleeper does.
    long busyBefore = at.get("busy@7")[0];
    long sleeperBefore = at.get("sleeper@7")[0];
    assertTrue(Math.abs(busyBefore - sleeperBefore) <= MIB_PAGES, "tau 0: " + busyBefore + " / " + sleeperBefore);
    // Taxed: the idle sleeper's balloon grows and the busy VM gets the memory.
    assertTrue(at.get("sleeper@12")[1] >= at.get("sleeper@7")[1] + 4 * MIB_PAGES,
        "the sleeper's balloon target after tau 0.75: " + at.get("sleeper@12")[1] + " pages, before "
            + at.get("sleeper@7")[1]);
    assertTrue(at.get("busy@12")[0] >= busyBefore + 4 * MIB_PAGES,
        "the busy VM's memory after tau 0.75: " + at.get("busy@12")[0] + " pages, before " + busyBefore);
    // Active again from 16 s: the sleeper takes memory back.
    assertTrue(at.get("sleeper@24")[0] >= at.get("sleeper@15")[0] + 4 * MIB_PAGES,
        "the sleeper's memory once active: " + at.get("sleeper@24")[0] + " pages, idle " + at.get("sleeper@15")[0]);
    for (String vm : List.of("busy", "sleeper")) {
      JsonNode summary = first.path("vms").path(vm).path("guest_summary");
      assertTrue(summary.path("accesses").asLong() > 0, vm + " printed its summary: " + summary);
      assertEquals(0, summary.path("integrity_violations").asLong(), vm + ": " + summary);
      assertEquals(0, summary.path("isolation_violations").asLong(), vm + ": " + summary);
    }
  }

  @Test
  void twoRunsGiveTheSameResults() throws Exception {
    Path secondDir = run("second");
    ObjectNode second = LabRuns.report(secondDir);
    ObjectNode a = LabRuns.results(first);
    ObjectNode b = LabRuns.results(second);
    assertEquals(a, b, "the results of two runs");
    assertEquals(Files.readString(firstDir.resolve(ReportWriter.CSV)),
        Files.readString(secondDir.resolve(ReportWriter.CSV)), "the time series, sample by sample");
  }

  /** {@code vm@second} -> {mapped pages, balloon target pages}, from the time series. */
  private static Map<String, long[]> series(Path dir) throws Exception {
    Map<String, long[]> rows = new HashMap<>();
    List<String> lines = Files.readAllLines(dir.resolve(ReportWriter.CSV));
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split(",");
      rows.put(f[1] + "@" + (int) Double.parseDouble(f[0]), new long[] {Long.parseLong(f[3]), Long.parseLong(f[5])});
    }
    return rows;
  }
}
