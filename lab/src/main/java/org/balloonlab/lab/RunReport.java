package org.balloonlab.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.balloonlab.domain.Pace;
import org.balloonlab.lab.report.ReportWriter;
import org.balloonlab.lab.scenario.GuestSpec;
import org.balloonlab.lab.scenario.Scenario;
import org.balloonlab.lab.scenario.ScheduledAction;
import org.balloonlab.proto.LabClockState;
import org.balloonlab.proto.MachineEvent;
import org.balloonlab.proto.TargetDecision;
import org.balloonlab.proto.VmShare;
import org.balloonlab.proto.MachineState;
import org.balloonlab.proto.VmState;

/**
 * The JSON of a run's {@code report.json}, built from what the launcher gathered.
 *
 * <p>Results and the wall clock are kept apart. Every result is in simulated time (lab times of samples, actions
 * and events; the VMs' and the machine's counters), so two runs of a scenario on a lockstep hypervisor give the
 * same results on an idle laptop and a loaded server, and {@code reproducible} says whether this one does (with
 * the reasons if not, from the hypervisor's lab clock). What depends on the machine and the moment the run
 * happened is in the one section {@code wall}: the run's folder, its start and end dates, wall seconds, simulated
 * seconds per wall second, process ids, the wall times of events, and the wall-clock fields of the hypervisor's
 * own state (milliseconds since a driver's last call, the clock's wall-clock figures).
 */
final class RunReport {
  private static final JsonFormat.Printer PRINTER = JsonFormat.printer();
  /** The clock's few fields are all worth reading, 0 or not (a clock held at 0, a pace of max). */
  private static final JsonFormat.Printer ALL_FIELDS = PRINTER.includingDefaultValueFields();

  private final ObjectNode root = ReportWriter.newReport();
  private final ObjectNode scenario;
  private final ObjectNode run;
  private final ObjectNode clock;
  private final ObjectNode vms;
  private final ArrayNode actions;
  private final ArrayNode events;
  private final ObjectNode wall;
  private boolean clockReported;

  /** @param partsHere {@code all}, or the parts of the lab this machine ran, as {@code --only} gave them */
  RunReport(Scenario s, String partsHere) {
    scenario = root.putObject("scenario");
    root.put("reproducible", false);
    root.putArray("not_reproducible_because");
    run = root.putObject("run");
    run.put("parts_here", partsHere);
    clock = root.putObject("clock");
    vms = root.putObject("vms");
    root.putObject("machine");
    actions = root.putArray("actions");
    events = root.putArray("events");
    wall = root.putObject("wall");
    describe(s);
  }

  private void describe(Scenario s) {
    scenario.put("name", s.name());
    scenario.put("file", s.source());
    scenario.put("description", s.description());
    scenario.put("duration_s", s.duration().toMillis() / 1000.0);
    ArrayNode hvFlags = scenario.putObject("hypervisor").putArray("flags");
    s.hypervisor().flags().forEach(hvFlags::add);
    ArrayNode guests = scenario.putArray("guests");
    for (GuestSpec g : s.guests()) {
      ObjectNode gn = guests.addObject();
      gn.put("name", g.name());
      gn.put("memory", g.memory().toString());
      ArrayNode workloads = gn.putArray("workloads");
      g.workloads().forEach(workloads::add);
      ArrayNode flags = gn.putArray("flags");
      g.flags().forEach(flags::add);
    }
    ArrayNode schedule = scenario.putArray("schedule");
    for (ScheduledAction a : s.actions()) {
      schedule.addObject().put("at_s", a.at().toMillis() / 1000.0).put("action", a.describe());
    }
  }

  /**
   * How the run went.
   *
   * @param labTimeNs the lab time it ended at
   */
  void run(String stoppedBy, long labTimeNs, int samples) {
    run.put("stopped_by", stoppedBy);
    run.put("lab_time_ns", labTimeNs);
    run.put("samples", samples);
  }

  /**
   * The lab clock as the run ended: whether it was reproducible and why not, its settings and how far it went;
   * its wall-clock figures go to {@code wall}. A hypervisor without a lab clock (or one that runs free) reports
   * a clock that is not lockstep.
   */
  void clock(LabClockState c) {
    clockReported = true;
    boolean reproducible = c.getLockstep() && c.getReproducible();
    root.put("reproducible", reproducible);
    ArrayNode because = (ArrayNode) root.get("not_reproducible_because");
    c.getNotReproducibleBecauseList().forEach(because::add);
    if (!c.getLockstep() && because.isEmpty()) {
      because.add("the hypervisor runs free (lab-clock: free): no quanta, and the launcher acts on wall time");
    }
    ObjectNode settings = (ObjectNode) json(c, ALL_FIELDS);
    // The verdict is the report's own, above; the wall-clock figures go to wall.
    settings.remove(List.of("reproducible", "notReproducibleBecause", "wallElapsedMs", "simulatedPerWallSecond"));
    clock.setAll(settings);
    // As a scenario writes it, rather than 0 for max.
    clock.put("pace", new Pace(c.getPace()).toString());
    wall.put("clock_wall_elapsed_ms", c.getWallElapsedMs());
    wall.put("simulated_per_wall_second", round(c.getSimulatedPerWallSecond()));
  }

  /**
   * A VM of the lab.
   *
   * @param last its last state, or {@code null} if the hypervisor was never seen with it
   * @param end how its guest ended here, or {@code null} if it ran elsewhere
   * @param stoppedBySchedule whether the schedule killed it or powered it off
   */
  void vm(String name, VmState last, Launcher.GuestEnd end, boolean stoppedBySchedule) {
    ObjectNode vm = vms.putObject(name);
    if (last != null) {
      vm.set("last_state", json(last.toBuilder().setBalloon(last.getBalloon().toBuilder().clearLastContactMsAgo())));
      JsonNode contacts = wall.get("balloon_last_contact_ms_ago");
      (contacts != null ? (ObjectNode) contacts : wall.putObject("balloon_last_contact_ms_ago"))
          .put(name, last.getBalloon().getLastContactMsAgo());
      // Page sharing at the end, in the summary's own words (the full counters are in last_state.sharing).
      org.balloonlab.proto.VmSharingState sh = last.getSharing();
      vm.putObject("sharing").put("shared_pages", sh.getSharedPages()).put("saved_pages", sh.getSavedPages())
          .put("hints", sh.getHints()).put("cow_breaks", sh.getCowBreaks()).put("scanned_pages", sh.getScannedPages())
          .put("shared_before_page_out", sh.getSharedBeforePageOut()).put("share_scan_ns", sh.getShareScanNs());
    }
    if (end != null) {
      vm.put("exit_code", end.exitCode());
      vm.put("stopped_by_schedule", stoppedBySchedule);
      if (end.summary() != null) {
        ObjectNode s = vm.putObject("guest_summary");
        for (String kv : end.summary().split(" ")) {
          int eq = kv.indexOf('=');
          if (eq > 0) {
            String v = kv.substring(eq + 1);
            if (v.matches("-?\\d+")) {
              s.put(kv.substring(0, eq), Long.parseLong(v));
            } else {
              s.put(kv.substring(0, eq), v);
            }
          }
        }
      }
    }
  }

  /** The machine as last sampled; its clock is reported by {@link #clock}. */
  void machine(MachineState m) {
    ObjectNode machine = (ObjectNode) json(m.toBuilder().clearClock());
    machine.put("free_state", VmTable.freeState(m));
    root.set("machine", machine);
  }

  void actions(List<ScheduledActions.Applied> applied) {
    for (ScheduledActions.Applied a : applied) {
      actions.addObject().put("at_s", a.action().at().toMillis() / 1000.0).put("lab_time_ns", a.labTimeNs())
          .put("action", a.action().describe()).put("outcome", a.outcome());
    }
  }

  /** The machine's events, in order: their lab times here, their wall times under {@code wall}. */
  void events(Collection<MachineEvent> all) {
    ArrayNode times = wall.putArray("event_times");
    for (MachineEvent e : all) {
      ObjectNode event = events.addObject().put("sequence", e.getSequence()).put("lab_time_ns", e.getLabTimeNs())
          .put("kind", e.getKind().name().replaceFirst("^EVENT_KIND_", "").toLowerCase(Locale.ROOT))
          .put("vm", e.getVmName()).put("message", e.getMessage());
      if (e.hasDecision()) {
        decision(event.putObject("decision"), e.getDecision());
      }
      times.addObject().put("sequence", e.getSequence())
          .put("time", Instant.ofEpochMilli(e.getWallTimeMs()).toString());
    }
  }

  /** A policy decision's inputs (docs/reclamation.md, "Why a target moved") and its explanation in words. */
  private static void decision(ObjectNode o, TargetDecision d) {
    o.put("from_balloon_pages", d.getFromBalloonPages()).put("to_balloon_pages", d.getToBalloonPages())
        .put("from_allocation_pages", d.getFromAllocationPages()).put("to_allocation_pages", d.getToAllocationPages())
        .put("free_state", d.getFreeState()).put("free_frames", d.getFreeFrames())
        .put("target_free_frames", d.getTargetFreeFrames()).put("bound", d.getBound())
        .put("held_back", d.getHeldBack());
    ArrayNode vms = o.putArray("vms");
    for (VmShare v : d.getVmsList()) {
      vms.addObject().put("vm", v.getVmName()).put("shares", v.getShares()).put("min_pages", v.getMinPages())
          .put("mapped_pages", v.getMappedPages()).put("allocation_pages", v.getAllocationPages())
          .put("active_fraction", v.getActiveFraction()).put("shares_per_page", v.getSharesPerPage())
          .put("tau", v.getTau()).put("pinned", v.getPinned());
    }
    o.put("explanation", DecisionExplanation.explain(d));
  }

  /**
   * Where and when the run happened on this machine.
   *
   * @param pids the process id of each process started here, by name
   */
  void wall(Path dir, Instant started, Instant ended, Map<String, Long> pids) {
    wall.put("directory", dir.toString());
    wall.put("started", started.toString());
    wall.put("ended", ended.toString());
    wall.put("seconds", round((ended.toEpochMilli() - started.toEpochMilli()) / 1000.0));
    ObjectNode p = wall.putObject("pids");
    pids.forEach(p::put);
  }

  /** The report; without the lab clock's verdict for a part of a split lab that does not run the hypervisor. */
  ObjectNode json() {
    if (!clockReported) {
      root.remove(List.of("reproducible", "not_reproducible_because", "clock"));
    }
    return root;
  }

  private static JsonNode json(MessageOrBuilder message) {
    return json(message, PRINTER);
  }

  private static JsonNode json(MessageOrBuilder message, JsonFormat.Printer printer) {
    try {
      return ReportWriter.parse(printer.print(message));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a message of the hypervisor's cannot be printed as JSON", e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
