package org.balloonlab.lab;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.util.JsonFormat;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.balloonlab.lab.report.Plots;
import org.balloonlab.lab.report.ReportWriter;
import org.balloonlab.lab.report.VmSample;
import org.balloonlab.lab.scenario.GuestSpec;
import org.balloonlab.lab.scenario.Scenario;
import org.balloonlab.lab.scenario.ScheduledAction;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.proto.MachineEvent;
import org.balloonlab.proto.PowerOffVmRequest;
import org.balloonlab.proto.SetBalloonTargetRequest;
import org.balloonlab.proto.SetDriverModeRequest;
import org.balloonlab.proto.VmState;
import org.balloonlab.proto.WatchEventsRequest;
import org.balloonlab.units.HostPort;
import org.balloonlab.units.MemorySize;

/**
 * One run of a scenario on this machine: starts the hypervisor and the guests as separate JVMs (or the part of
 * the lab this machine runs) through a {@link Launcher}, samples the lab through the management service, redraws
 * a live table, applies the scheduled actions when they are due, stops everything at the end or on Ctrl-C, and
 * writes the report.
 *
 * <p>Nothing is left running: the launcher stops every process when {@link #run} ends, and on Ctrl-C its
 * shutdown hook ends the run early, waits for the report, and stops whatever is still alive if that takes too
 * long.
 */
public final class LabRun {
  /** Printed once the report is written: {@code BALLOONLAB_REPORT runs/x-20250101-120000}. */
  public static final String REPORT = "BALLOONLAB_REPORT ";

  /**
   * Which part of the scenario runs here, and how.
   *
   * @param only {@code hypervisor} and/or guest names to run here; empty for the whole lab
   * @param hypervisor the hypervisor to join when this machine does not run it, or {@code null}
   * @param listen overrides the scenario's listen address, or {@code null}
   * @param runDir the run's folder, or {@code null} for {@code <report dir>/<name>-<date>-<time>}
   * @param ansi whether to redraw the live table in place (a terminal) or print it as lines
   */
  public record Options(Set<String> only, HostPort hypervisor, HostPort listen, Path runDir, boolean ansi) {
  }

  /** How long the run waits for the hypervisor to answer a sample or an action. */
  private static final Duration CALL_DEADLINE = Duration.ofSeconds(10);

  private final Scenario scenario;
  private final Options options;
  private final PrintWriter out;
  private final Path dir;
  private final Launcher launcher;
  private final boolean runsHypervisor;
  private final List<GuestSpec> localGuests = new ArrayList<>();
  /** Guests killed or powered off by the schedule: their ending is expected, whatever their exit code. */
  private final Set<String> killed = new LinkedHashSet<>();
  private final Map<String, Launcher.GuestEnd> ends = new LinkedHashMap<>();
  private final List<VmSample> samples = new ArrayList<>();
  private final Map<String, VmState> lastSeen = new LinkedHashMap<>();
  private final List<ObjectNode> actionLog = new ArrayList<>();
  private final List<MachineEvent> events = new CopyOnWriteArrayList<>();
  private ListVmsResponse last;
  private int drawnLines;
  private String stoppedBy = "end of the run";
  private long startNanos;

  /** @throws IllegalArgumentException if the options ask for something the scenario does not have */
  public LabRun(Scenario scenario, Options options, PrintWriter out) {
    this.scenario = scenario;
    this.options = options;
    this.out = out;
    Set<String> names = new LinkedHashSet<>();
    scenario.guests().forEach(g -> names.add(g.name()));
    for (String part : options.only()) {
      if (!part.equals("hypervisor") && !names.contains(part)) {
        throw new IllegalArgumentException("--only: \"" + part + "\" is neither hypervisor nor a guest of "
            + scenario.name() + " (" + String.join(", ", names) + ")");
      }
    }
    this.runsHypervisor = options.only().isEmpty() || options.only().contains("hypervisor");
    for (GuestSpec g : scenario.guests()) {
      if (options.only().isEmpty() || options.only().contains(g.name())) {
        localGuests.add(g);
      }
    }
    if (!runsHypervisor && options.hypervisor() == null) {
      throw new IllegalArgumentException("without the hypervisor here, give --hypervisor HOST:PORT of the one "
          + "to join");
    }
    this.dir = options.runDir() != null ? options.runDir() : Launcher.newRunDirectory(scenario);
    this.launcher = new Launcher(dir, "768m", "512m");
  }

  /** Runs the scenario to its end (or Ctrl-C) and writes the report. @return 0 if every process ended well */
  public int run() throws IOException, InterruptedException {
    return launcher.run(this::runAndReport);
  }

  private int runAndReport() throws IOException, InterruptedException {
    out.printf("BalloonLab scenario %s (%s): %d guest(s) here of %d, %ds; logs and report in %s%n", scenario.name(),
        scenario.source(), localGuests.size(), scenario.guests().size(), scenario.duration().toSeconds(), dir);
    if (!scenario.description().isBlank()) {
      out.println(scenario.description().strip());
    }
    out.flush();
    HostPort address;
    if (runsHypervisor) {
      address = launcher.startHypervisor(scenario.hypervisor(), options.listen());
      out.printf("hypervisor (pid %d) listening on %s%n", launcher.hypervisor().pid(), address);
    } else {
      address = options.hypervisor();
    }
    // One at a time: JVMs starting together on a small machine can take longer than a guest waits to power on.
    for (GuestSpec g : localGuests) {
      if (g.autostart()) {
        launcher.awaitReady(startGuest(g, address));
      }
    }
    ManagementClient management = new ManagementClient(address);
    Thread follower = null;
    int code;
    try {
      follower = followEvents(management);
      startNanos = System.nanoTime();
      loop(management, address);
    } finally {
      code = stopGuests();
      management.close();
      if (follower != null) {
        follower.join(5000);
      }
      launcher.stopHypervisor();
    }
    writeReport();
    return code;
  }

  private void loop(ManagementClient management, HostPort address) throws InterruptedException, IOException {
    long interval = scenario.report().sampleInterval().toNanos();
    long end = scenario.duration().toNanos();
    long nextSample = 0;
    int nextAction = 0;
    int failedSamples = 0;
    List<ScheduledAction> actions = scenario.actions();
    while (true) {
      long elapsed = System.nanoTime() - startNanos;
      while (nextAction < actions.size() && actions.get(nextAction).at().toNanos() <= elapsed) {
        apply(actions.get(nextAction++), management, address, elapsed);
      }
      if (elapsed >= nextSample) {
        if (sample(management, elapsed)) {
          failedSamples = 0;
          draw(elapsed);
        } else if (++failedSamples >= 3 && (launcher.hypervisor() == null || !launcher.hypervisor().isAlive())) {
          // A busy machine may miss a sample; a hypervisor that is gone or silent three times running ends it.
          stoppedBy = "the hypervisor stopped answering";
          return;
        }
        // A slow sample (a busy machine) skips the samples it overran instead of bunching them up.
        nextSample = Math.max(nextSample + interval, System.nanoTime() - startNanos + interval / 2);
      }
      if (elapsed >= end) {
        // The last sample: the state the run ends in, shown and kept in the time series.
        if (sample(management, elapsed)) {
          draw(elapsed);
        }
        return;
      }
      if (launcher.hypervisor() != null && !launcher.hypervisor().isAlive()) {
        stoppedBy = "the hypervisor exited";
        return;
      }
      boolean pendingStarts = actions.subList(nextAction, actions.size()).stream()
          .anyMatch(a -> a.kind() == ScheduledAction.Kind.START && isLocal(a.vm()));
      if (!localGuests.isEmpty() && !pendingStarts
          && launcher.guests().values().stream().noneMatch(JvmProcess::isAlive)) {
        stoppedBy = "every guest here ended";
        return;
      }
      long wake = Math.min(end, nextSample);
      if (nextAction < actions.size()) {
        wake = Math.min(wake, actions.get(nextAction).at().toNanos());
      }
      long waitNanos = Math.max(1_000_000, wake - (System.nanoTime() - startNanos));
      if (launcher.awaitStop(waitNanos)) {
        stoppedBy = "interrupted (Ctrl-C)";
        sample(management, System.nanoTime() - startNanos);
        return;
      }
    }
  }

  private boolean isLocal(String vm) {
    return localGuests.stream().anyMatch(g -> g.name().equals(vm));
  }

  private JvmProcess startGuest(GuestSpec g, HostPort address) throws IOException {
    JvmProcess p = launcher.startGuest(g, address);
    out.printf("started %s (pid %d): %s of memory, %s%n", g.name(), p.pid(), g.memory(),
        String.join(" + ", g.workloads()));
    out.flush();
    return p;
  }

  /** Applies one scheduled action where this machine is the one to do it, and logs what happened. */
  private void apply(ScheduledAction a, ManagementClient management, HostPort address, long elapsedNanos)
      throws InterruptedException {
    String outcome;
    boolean byManagement = a.kind() == ScheduledAction.Kind.DRIVER || a.kind() == ScheduledAction.Kind.BALLOON
        || a.kind() == ScheduledAction.Kind.POWEROFF;
    if (byManagement && !runsHypervisor) {
      outcome = "skipped: the machine that runs the hypervisor applies it";
    } else if (!byManagement && !isLocal(a.vm())) {
      outcome = "skipped: " + a.vm() + " runs on another machine";
    } else {
      try {
        var stub = management.stub(CALL_DEADLINE);
        var vm = ManagementClient.select(a.vm());
        outcome = switch (a.kind()) {
          case DRIVER -> "ok: driver asked to switch to " + stub.setDriverMode(SetDriverModeRequest.newBuilder()
              .setVm(vm).setMode(DriverModes.parse(a.argument())).build()).getBalloon().getRequestedMode();
          case BALLOON -> {
            long pages = MemorySize.parse(a.argument()).pages();
            VmState s = stub.setBalloonTarget(SetBalloonTargetRequest.newBuilder().setVm(vm).setTargetPages(pages)
                .build());
            yield "ok: balloon target " + MemorySize.humanPages(s.getBalloon().getTargetPages());
          }
          case POWEROFF -> {
            VmState s = stub.powerOffVm(PowerOffVmRequest.newBuilder().setVm(vm).build());
            lastSeen.put(s.getName(), s);
            killed.add(a.vm());
            yield "ok: powered off holding " + MemorySize.humanPages(s.getMappedPages()) + " mapped";
          }
          case KILL -> {
            JvmProcess p = launcher.guests().get(a.vm());
            if (p == null || !p.isAlive()) {
              yield "failed: " + a.vm() + " is not running";
            }
            p.kill();
            killed.add(a.vm());
            yield "ok: killed pid " + p.pid() + " with SIGKILL";
          }
          case START -> {
            GuestSpec g = scenario.guest(a.vm()).orElseThrow();
            if (launcher.guests().containsKey(a.vm())) {
              yield "failed: " + a.vm() + " was started already";
            }
            yield "ok: started pid " + startGuest(g, address).pid();
          }
        };
      } catch (StatusRuntimeException e) {
        outcome = "failed: " + e.getStatus().getCode() + " " + e.getStatus().getDescription();
      } catch (IOException | RuntimeException e) {
        outcome = "failed: " + e.getMessage();
      }
    }
    ObjectNode entry = ReportWriter.newReport();
    entry.put("at_s", a.at().toMillis() / 1000.0);
    entry.put("applied_s", round(elapsedNanos / 1e9));
    entry.put("action", a.describe());
    entry.put("outcome", outcome);
    actionLog.add(entry);
    // In a terminal the table is erased first, so the action's line stays above the redrawn table.
    if (options.ansi() && drawnLines > 0) {
      out.print("\u001b[" + drawnLines + "F\u001b[J");
      drawnLines = 0;
    }
    out.printf("%.1fs: %s: %s%n", elapsedNanos / 1e9, a.describe(), outcome);
    out.flush();
    if (options.ansi()) {
      draw(elapsedNanos);
    }
  }

  /** Samples the lab once; false if the hypervisor does not answer. */
  private boolean sample(ManagementClient management, long elapsedNanos) {
    ListVmsResponse state;
    try {
      state = management.stub(CALL_DEADLINE).listVms(ListVmsRequest.getDefaultInstance());
    } catch (StatusRuntimeException e) {
      out.println("the hypervisor does not answer: " + e.getStatus().getCode() + " "
          + e.getStatus().getDescription());
      return false;
    }
    last = state;
    double t = round(elapsedNanos / 1e9);
    String freeState = VmTable.freeState(state.getMachine());
    for (VmState vm : state.getVmsList()) {
      lastSeen.put(vm.getName(), vm);
      samples.add(new VmSample(t, vm.getName(), vm.getMemoryPages(), vm.getMappedPages(),
          vm.getBalloon().getSizePages(), vm.getBalloon().getTargetPages(), vm.getHostSwappedPages(),
          vm.getGuest().getTrueFaults(), vm.getCounters().getHiddenFaults(), vm.getCounters().getHostPageOuts(),
          vm.getCounters().getHostPageIns(), vm.getCounters().getDoublePaging(),
          vm.getGuest().getSimulatedNs() / 1e9, state.getMachine().getFreeFrames(), freeState));
    }
    return true;
  }

  private void draw(long elapsedNanos) {
    if (last == null) {
      return;
    }
    String time = String.format(Locale.ROOT, "%.0fs", elapsedNanos / 1e9);
    List<String> lines = new ArrayList<>();
    lines.add(VmTable.header());
    lines.addAll(List.of(VmTable.render(time, last).split("\n")));
    if (options.ansi()) {
      StringBuilder b = new StringBuilder();
      if (drawnLines > 0) {
        b.append("\u001b[").append(drawnLines).append("F\u001b[J");
      }
      for (String l : lines) {
        b.append(l).append('\n');
      }
      out.print(b);
      drawnLines = lines.size();
    } else {
      lines.forEach(out::println);
    }
    out.flush();
  }

  private Thread followEvents(ManagementClient management) {
    Thread t = new Thread(() -> {
      try {
        Iterator<MachineEvent> it = management.streams()
            .watchEvents(WatchEventsRequest.newBuilder().setFollow(true).build());
        while (it.hasNext()) {
          events.add(it.next());
        }
      } catch (StatusRuntimeException e) {
        // The run is over (the channel was shut down), or the hypervisor went away or cannot stream events.
      }
    }, "lab-events");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** Stops the guests started here (SIGTERM, then SIGKILL if they hang). @return 0 if all ended well */
  private int stopGuests() throws InterruptedException {
    int failures = 0;
    for (Launcher.GuestEnd end : launcher.stopGuests(20)) {
      ends.put(end.vm(), end);
      // 143: a JVM ended by the SIGTERM that stopped it, which it handles by shutting down cleanly.
      if (!killed.contains(end.vm()) && end.exitCode() != 0 && end.exitCode() != 143) {
        failures++;
        out.println(launcher.endedBadly(end));
      }
    }
    return failures == 0 ? 0 : 1;
  }

  private void writeReport() throws IOException {
    ObjectNode report = ReportWriter.newReport();
    ObjectNode sc = report.putObject("scenario");
    sc.put("name", scenario.name());
    sc.put("file", scenario.source());
    sc.put("description", scenario.description());
    sc.put("duration_s", scenario.duration().toMillis() / 1000.0);
    ArrayNode hvFlags = sc.putObject("hypervisor").putArray("flags");
    scenario.hypervisor().flags().forEach(hvFlags::add);
    ArrayNode guestsNode = sc.putArray("guests");
    for (GuestSpec g : scenario.guests()) {
      ObjectNode gn = guestsNode.addObject();
      gn.put("name", g.name());
      gn.put("memory", g.memory().toString());
      ArrayNode workloads = gn.putArray("workloads");
      g.workloads().forEach(workloads::add);
      ArrayNode flags = gn.putArray("flags");
      g.flags().forEach(flags::add);
    }
    ArrayNode schedule = sc.putArray("schedule");
    for (ScheduledAction a : scenario.actions()) {
      schedule.addObject().put("at_s", a.at().toMillis() / 1000.0).put("action", a.describe());
    }
    ObjectNode run = report.putObject("run");
    run.put("directory", dir.toString());
    run.put("parts_here", options.only().isEmpty() ? "all" : String.join(",", options.only()));
    run.put("ended", Instant.now().toString());
    run.put("seconds", round((System.nanoTime() - startNanos) / 1e9));
    run.put("stopped_by", stoppedBy);
    run.put("samples", samples.size());
    ObjectNode vms = report.putObject("vms");
    JsonFormat.Printer printer = JsonFormat.printer();
    for (Map.Entry<String, VmState> e : lastSeen.entrySet()) {
      ObjectNode vm = vms.putObject(e.getKey());
      vm.set("last_state", ReportWriter.parse(printer.print(e.getValue())));
      Launcher.GuestEnd end = ends.get(e.getKey());
      if (end != null) {
        vm.put("exit_code", end.exitCode());
        vm.put("stopped_by_schedule", killed.contains(e.getKey()));
        String summary = end.summary();
        if (summary != null) {
          ObjectNode s = vm.putObject("guest_summary");
          for (String kv : summary.split(" ")) {
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
    if (last != null) {
      ObjectNode machine = (ObjectNode) ReportWriter.parse(printer.print(last.getMachine()));
      machine.put("free_state", VmTable.freeState(last.getMachine()));
      report.set("machine", machine);
    }
    ArrayNode actions = report.putArray("actions");
    actionLog.forEach(actions::add);
    ArrayNode ev = report.putArray("events");
    for (MachineEvent e : events) {
      ev.addObject().put("sequence", e.getSequence()).put("time", Instant.ofEpochMilli(e.getWallTimeMs()).toString())
          .put("kind", e.getKind().name().replaceFirst("^EVENT_KIND_", "").toLowerCase(Locale.ROOT))
          .put("vm", e.getVmName()).put("message", e.getMessage());
    }
    List<Plots.Marker> markers = new ArrayList<>();
    for (ObjectNode a : actionLog) {
      if (a.get("outcome").asText().startsWith("ok")) {
        markers.add(new Plots.Marker(a.get("applied_s").asDouble(), a.get("action").asText()));
      }
    }
    List<Path> files = ReportWriter.write(dir, report, samples, markers, scenario.name(), scenario.report().plots());
    out.println();
    out.printf("run ended: %s after %.0fs; %d samples%n", stoppedBy, (System.nanoTime() - startNanos) / 1e9,
        samples.size());
    for (Launcher.GuestEnd end : ends.values()) {
      out.printf("%s: %s%n", end.vm(), end.summary() == null ? "no summary (it did not stop cleanly)" : end.summary());
    }
    out.println("report: " + String.join(", ", files.stream().map(Path::toString).toList()));
    out.println(REPORT + dir);
    out.flush();
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
