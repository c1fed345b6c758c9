package org.balloonlab.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.balloonlab.lab.JvmProcess;
import org.balloonlab.lab.report.ReportWriter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A lab on the lab clock gives the same results whatever the load of the machine and however its parts are
 * spread: a shipped scenario with several guests, ballooning and hypervisor paging ({@code disabled-driver.yaml},
 * shortened with {@code --duration}) is run on this machine as it is, then again while a CPU hog spins on every
 * core, then as a split lab (the hypervisor's part and the guests' part as separate launchers). Their reports must
 * be identical but for the {@code wall} section: every counter, every sample of the time series, every action and
 * event at its lab time.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReproducibleLabIT {
  private static final Path SCENARIO = Path.of("..", "scenarios", "disabled-driver.yaml");
  /** Lab time: past the driver fault at 5 s and long enough for the hypervisor to page vm3. */
  private static final String DURATION = "15s";
  private static final Duration RUN_LIMIT = Duration.ofMinutes(3);

  private LabRuns runs;
  private ObjectNode idle;
  private String idleSeries;

  @BeforeAll
  void runOnAnIdleMachine() throws Exception {
    runs = new LabRuns(Path.of("target", "it-reproducible"));
    Path dir = run("idle");
    idle = LabRuns.report(dir);
    idleSeries = Files.readString(dir.resolve(ReportWriter.CSV));
    assertTrue(idle.path("reproducible").asBoolean(), idle.path("not_reproducible_because").toString());
    // The run exercises what it should: ballooning of vm1 and vm2, hypervisor paging of vm3 after the fault.
    assertTrue(idle.path("vms").path("vm3").path("last_state").path("counters").path("hostPageOuts").asLong() > 0,
        idle.path("vms").path("vm3").toString());
    assertTrue(idle.path("vms").path("vm1").path("last_state").path("balloon").path("lockedTotal").asLong() > 0,
        idle.path("vms").path("vm1").toString());
    assertEquals("ok: driver asked to switch to disabled", idle.path("actions").get(0).path("outcome").asText());
  }

  @AfterAll
  void cleanUp() {
    runs.close();
  }

  /** Runs the whole lab with one launcher; answers its folder. */
  private Path run(String name) throws Exception {
    Path dir = runs.work().resolve("run-" + name);
    JvmProcess launcher = runs.start(name, "run", SCENARIO.toString(), "--duration", DURATION, "--run-dir",
        dir.toString(), "--plain");
    runs.awaitChildren(launcher, 4);
    assertEquals(0, runs.awaitEnd(launcher, RUN_LIMIT), String.join("\n", launcher.lines()));
    runs.assertNothingLeft();
    return dir;
  }

  @Test
  void aLoadedMachineGivesTheSameResults() throws Exception {
    Path dir;
    JvmProcess hog = JvmProcess.start("cpu-hog", CpuHog.class.getName(),
        List.of(Integer.toString(Runtime.getRuntime().availableProcessors())), "32m", runs.work().resolve("logs-hog"),
        null);
    try {
      await("the hog spinning").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
          .until(() -> hog.lineStartingWith("CPU_HOG_SPINNING") != null || !hog.isAlive());
      assertTrue(hog.isAlive(), "the CPU hog runs");
      dir = run("loaded");
    } finally {
      hog.kill();
    }
    ObjectNode loaded = LabRuns.report(dir);
    assertSame(LabRuns.results(idle), LabRuns.results(loaded));
    assertEquals(idleSeries, Files.readString(dir.resolve(ReportWriter.CSV)), "the time series, sample by sample");
    assertTrue(loaded.path("wall").path("seconds").asDouble() > 0);
  }

  @Test
  void aSplitLabGivesTheSameResults() throws Exception {
    Path hvDir = runs.work().resolve("run-split-hypervisor");
    Path guestDir = runs.work().resolve("run-split-guests");
    JvmProcess hv = runs.start("split-hypervisor", "run", SCENARIO.toString(), "--only", "hypervisor",
        "--duration", DURATION, "--run-dir", hvDir.toString(), "--plain");
    await("the hypervisor's part serving").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50))
        .until(() -> address(hv) != null || !hv.isAlive());
    String address = address(hv);
    assertNotNull(address, String.join("\n", hv.lines()));
    JvmProcess guests = runs.start("split-guests", "run", SCENARIO.toString(), "--only", "vm1,vm2,vm3",
        "--hypervisor", address, "--duration", DURATION, "--run-dir", guestDir.toString(), "--plain");
    runs.awaitChildren(hv, 1);
    runs.awaitChildren(guests, 3);
    assertEquals(0, runs.awaitEnd(hv, RUN_LIMIT), String.join("\n", hv.lines()));
    assertEquals(0, runs.awaitEnd(guests, Duration.ofSeconds(60)), String.join("\n", guests.lines()));
    runs.assertNothingLeft();

    // The hypervisor's part has the lab's results; the guests' part has how its guests ended.
    ObjectNode split = LabRuns.results(LabRuns.report(hvDir));
    ObjectNode guestPart = LabRuns.report(guestDir);
    ObjectNode whole = LabRuns.results(idle);
    assertEquals("hypervisor", split.path("run").path("parts_here").asText());
    assertEquals("vm1,vm2,vm3", guestPart.path("run").path("parts_here").asText());
    for (String vm : List.of("vm1", "vm2", "vm3")) {
      for (String field : List.of("exit_code", "stopped_by_schedule", "guest_summary")) {
        assertEquals(whole.path("vms").path(vm).path(field), guestPart.path("vms").path(vm).path(field),
            vm + "." + field + " in the guests' part");
        ((ObjectNode) whole.path("vms").path(vm)).remove(field);
      }
    }
    ((ObjectNode) whole.path("run")).put("parts_here", "hypervisor");
    assertSame(whole, split);
    assertEquals(idleSeries, Files.readString(hvDir.resolve(ReportWriter.CSV)), "the time series");
  }

  private static String address(JvmProcess launcher) {
    for (String line : launcher.lines()) {
      int at = line.indexOf(" listening on ");
      if (line.startsWith("hypervisor (pid ") && at > 0) {
        return line.substring(at + " listening on ".length()).trim();
      }
    }
    return null;
  }

  /** Equal JSON, or a failure naming the first place they differ. */
  private static void assertSame(JsonNode expected, JsonNode actual) {
    String difference = firstDifference(expected, actual, "");
    assertEquals(null, difference, "the results differ");
  }

  private static String firstDifference(JsonNode a, JsonNode b, String path) {
    if (a.equals(b)) {
      return null;
    }
    if (a.isObject() && b.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = a.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String d = firstDifference(e.getValue(), b.path(e.getKey()), path + "." + e.getKey());
        if (d != null) {
          return d;
        }
      }
      for (Iterator<String> it = b.fieldNames(); it.hasNext(); ) {
        String name = it.next();
        if (!a.has(name)) {
          return path + "." + name + ": absent, then " + b.get(name);
        }
      }
    }
    if (a.isArray() && b.isArray()) {
      for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
        String d = firstDifference(a.get(i), b.get(i), path + "[" + i + "]");
        if (d != null) {
          return d;
        }
      }
      return path + ": " + a.size() + " items, then " + b.size();
    }
    return path + ": " + a + ", then " + b;
  }
}
