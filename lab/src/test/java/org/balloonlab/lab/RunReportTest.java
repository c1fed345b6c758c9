package org.balloonlab.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.balloonlab.lab.scenario.GuestSpec;
import org.balloonlab.lab.scenario.HypervisorSpec;
import org.balloonlab.lab.scenario.Scenario;
import org.balloonlab.lab.scenario.ScheduledAction;
import org.balloonlab.proto.BalloonState;
import org.balloonlab.proto.EventKind;
import org.balloonlab.proto.LabClockState;
import org.balloonlab.proto.MachineEvent;
import org.balloonlab.proto.MachineState;
import org.balloonlab.proto.VmCounters;
import org.balloonlab.proto.VmState;
import org.balloonlab.units.MemorySize;
import org.junit.jupiter.api.Test;

/**
 * The report keeps results in simulated time and everything that depends on the wall clock (and on where and when
 * the run happened) in its {@code wall} section: two runs that differ only there have the same results.
 */
class RunReportTest {
  private static final Scenario SCENARIO = new Scenario("t", "t.yaml", "", HypervisorSpec.builder(
      MemorySize.parse("64MiB")).build(), List.of(GuestSpec.builder("vm1", MemorySize.parse("32MiB"),
      List.of("idle:footprint=8MiB")).build()), List.of(new ScheduledAction(Duration.ofSeconds(2),
      ScheduledAction.Kind.DRIVER, "vm1", "disabled", 7)), Duration.ofSeconds(5), Scenario.ReportSpec.DEFAULT);

  /** A report of the same run, as seen by a machine where the wall clock said {@code wallMs}. */
  private static ObjectNode report(long wallMs, boolean reproducible) {
    RunReport r = new RunReport(SCENARIO, "all");
    r.run("end of the run", 5_000_000_000L, 6);
    LabClockState.Builder clock = LabClockState.newBuilder().setLockstep(true).setLabTimeNs(5_000_000_000L)
        .setQuantumNs(10_000_000L).setBoundaries(500).setHeldAtNs(5_000_000_000L).setReproducible(reproducible)
        .setWallElapsedMs(wallMs).setSimulatedPerWallSecond(5000.0 / wallMs);
    if (!reproducible) {
      clock.addNotReproducibleBecause("vm1 was dropped after the straggler grace at lab time 3s");
    }
    r.clock(clock.build());
    VmState vm1 = VmState.newBuilder().setVmId(1).setName("vm1").setMappedPages(100)
        .setCounters(VmCounters.newBuilder().setHiddenFaults(42))
        .setBalloon(BalloonState.newBuilder().setSizePages(12).setLastContactMsAgo(wallMs % 977)).build();
    r.vm("vm1", vm1, new Launcher.GuestEnd("vm1", 143, "name=vm1 simulated_ns=5000 accesses=9"), false);
    r.machine(MachineState.newBuilder().setMachineFrames(16384).setFreeFrames(1000).setClock(clock).build());
    r.actions(List.of(new ScheduledActions.Applied(SCENARIO.actions().get(0), 2_000_000_000L,
        "ok: driver asked to switch to disabled")));
    r.events(List.of(MachineEvent.newBuilder().setSequence(1).setKind(EventKind.EVENT_KIND_DRIVER_MODE_CHANGED)
        .setVmName("vm1").setMessage("driver asked to switch to disabled").setLabTimeNs(2_000_000_000L)
        .setWallTimeMs(1_700_000_000_000L + wallMs).build()));
    r.wall(Path.of("runs", "t-" + wallMs), Instant.ofEpochMilli(1_700_000_000_000L),
        Instant.ofEpochMilli(1_700_000_000_000L + wallMs), Map.of("vm1", 1000 + wallMs));
    return r.json();
  }

  private static List<String> fieldNames(JsonNode node, String path) {
    List<String> names = new ArrayList<>();
    if (node.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        names.add(path + e.getKey());
        names.addAll(fieldNames(e.getValue(), path + e.getKey() + "."));
      }
    } else if (node.isArray()) {
      node.forEach(n -> names.addAll(fieldNames(n, path)));
    }
    return names;
  }

  @Test
  void resultsAreTheSameWhateverTheWallClockSaid() {
    ObjectNode quick = report(2_000, true);
    ObjectNode slow = report(61_000, true);
    assertNotEquals(quick, slow);
    assertNotEquals(quick.get("wall"), slow.get("wall"));
    quick.remove("wall");
    slow.remove("wall");
    assertEquals(quick, slow, "everything but the wall section depends on simulated time alone");
  }

  @Test
  void wallClockFiguresLiveInTheWallSectionOnly() {
    ObjectNode r = report(2_000, true);
    JsonNode wall = r.get("wall");
    assertEquals("runs/t-2000", wall.get("directory").asText().replace('\\', '/'));
    assertEquals("2023-11-14T22:13:20Z", wall.get("started").asText());
    assertEquals(2.0, wall.get("seconds").asDouble());
    assertEquals(2.5, wall.get("simulated_per_wall_second").asDouble());
    assertEquals(2000, wall.get("clock_wall_elapsed_ms").asLong());
    assertEquals(46, wall.path("balloon_last_contact_ms_ago").path("vm1").asLong());
    assertEquals(3000, wall.path("pids").path("vm1").asLong());
    assertEquals(1, wall.path("event_times").get(0).path("sequence").asLong());
    r.remove("wall");
    List<String> names = fieldNames(r, "");
    for (String wallish : List.of("lastContactMsAgo", "wallElapsedMs", "simulatedPerWallSecond", "time",
        "wall_time_ms", "directory", "started", "ended", "seconds")) {
      assertFalse(names.stream().anyMatch(n -> n.endsWith("." + wallish) || n.equals(wallish)),
          wallish + " outside the wall section: " + names);
    }
  }

  @Test
  void resultsCarryLabTimesAndTheClocksVerdict() {
    ObjectNode r = report(2_000, true);
    assertTrue(r.get("reproducible").asBoolean());
    assertEquals(0, r.get("not_reproducible_because").size());
    assertEquals(5_000_000_000L, r.path("run").path("lab_time_ns").asLong());
    assertEquals(2_000_000_000L, r.path("events").get(0).path("lab_time_ns").asLong());
    assertEquals("driver_mode_changed", r.path("events").get(0).path("kind").asText());
    assertEquals(2_000_000_000L, r.path("actions").get(0).path("lab_time_ns").asLong());
    assertEquals(2.0, r.path("actions").get(0).path("at_s").asDouble());
    assertEquals("10000000", r.path("clock").path("quantumNs").asText());
    assertTrue(r.path("clock").path("lockstep").asBoolean());
    assertEquals("max", r.path("clock").path("pace").asText());
    assertEquals("5000000000", r.path("clock").path("heldAtNs").asText());
    assertEquals(0, r.path("clock").path("participants").asInt(-1), "fields at 0 are written too");
    assertFalse(r.path("machine").has("clock"), "the clock has a section of its own");
    assertEquals(9, r.path("vms").path("vm1").path("guest_summary").path("accesses").asLong());
    assertEquals(12, r.path("vms").path("vm1").path("last_state").path("balloon").path("sizePages").asLong());

    ObjectNode dropped = report(2_000, false);
    assertFalse(dropped.get("reproducible").asBoolean());
    assertEquals("vm1 was dropped after the straggler grace at lab time 3s",
        dropped.get("not_reproducible_because").get(0).asText());
  }

  @Test
  void aHypervisorWithoutALabClockIsNotReproducibleAndSaysWhy() {
    RunReport r = new RunReport(SCENARIO, "all");
    r.clock(LabClockState.getDefaultInstance());
    assertFalse(r.json().get("reproducible").asBoolean());
    assertTrue(r.json().get("not_reproducible_because").get(0).asText().contains("runs free"));
  }

  @Test
  void aPartWithoutTheHypervisorLeavesTheClockToTheOtherPart() {
    RunReport r = new RunReport(SCENARIO, "vm1");
    r.vm("vm1", null, new Launcher.GuestEnd("vm1", 143, "name=vm1 accesses=9"), false);
    assertFalse(r.json().has("reproducible"));
    assertFalse(r.json().has("clock"));
    assertEquals(9, r.json().path("vms").path("vm1").path("guest_summary").path("accesses").asLong());
  }
}
