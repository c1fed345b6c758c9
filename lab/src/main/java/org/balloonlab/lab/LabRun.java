package org.balloonlab.lab;

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
import java.util.concurrent.ConcurrentSkipListMap;
import org.balloonlab.hypervisor.cli.HypervisorCommand;
import org.balloonlab.domain.VmName;
import org.balloonlab.lab.report.Plots;
import org.balloonlab.lab.report.ReportWriter;
import org.balloonlab.lab.report.VmSample;
import org.balloonlab.lab.scenario.GuestSpec;
import org.balloonlab.lab.scenario.Scenario;
import org.balloonlab.proto.GetMachineRequest;
import org.balloonlab.proto.LabClockState;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.proto.MachineEvent;
import org.balloonlab.proto.PowerOffVmRequest;
import org.balloonlab.proto.VmState;
import org.balloonlab.proto.WatchEventsRequest;
import org.balloonlab.transport.ClientSecurity;
import org.balloonlab.transport.Token;
import org.balloonlab.units.ExitCodes;
import org.balloonlab.units.HostPort;

/**
 * One run of a scenario on this machine, on the lab clock ({@code docs/lab-clock.md}, "The launcher as holder").
 *
 * <p>The part of the lab that runs the hypervisor holds the clock: it takes hold of it at lab time 0, powers its
 * guests on one at a time (a guest's JVM, then the next once the hypervisor lists its VM attached, so VM ids follow
 * the scenario's order), waits until every guest that starts with the lab is attached (in a split lab, those the
 * other parts power on too), then asks the hypervisor to run to each lab time at which it has something to do: a
 * sample of the time series (every {@code report.interval}), a scheduled action, the end ({@code duration}).
 * While the clock stands there it samples the lab, applies the actions and redraws the live table, so each happens
 * at its simulated instant whatever the load of the machine. At the end it takes the last sample, stops the
 * guests while the clock is still held, then the hypervisor, and writes the report. A part of a split lab without
 * the hypervisor only powers its guests on, shows the table, and stops its guests when the clock stands at the
 * end. On a hypervisor that runs free ({@code lab-clock: free}) lab time is wall time and nothing is reproducible.
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
   * @param dashboard where to serve the live web dashboard, or {@code null} for none
   */
  public record Options(Set<String> only, HostPort hypervisor, HostPort listen, Path runDir, boolean ansi,
                        HostPort dashboard) {
  }

  /** How often a part without the hypervisor looks at the lab: it holds no clock, so it looks on wall time. */
  private static final Duration WATCH_PERIOD = Duration.ofSeconds(1);
  /** How long the hypervisor's part waits at the end for the guests of other parts to stop by themselves. */
  private static final Duration OTHERS_STOP_LIMIT = Duration.ofSeconds(60);

  private final Scenario scenario;
  private final Options options;
  private final PrintWriter out;
  private final Path dir;
  private final Launcher launcher;
  private final boolean runsHypervisor;
  private final List<GuestSpec> localGuests = new ArrayList<>();
  private final LiveView view;
  private final Map<String, Launcher.GuestEnd> ends = new LinkedHashMap<>();
  private final List<VmSample> samples = new ArrayList<>();
  /** Lab times sampled: each adds one row per VM to {@link #samples}. */
  private int sampled;
  private final Map<String, VmState> lastSeen = new LinkedHashMap<>();
  private final ConcurrentSkipListMap<Long, MachineEvent> events = new ConcurrentSkipListMap<>();
  private ScheduledActions schedule;
  private LabDashboard dashboard;
  private ListVmsResponse last;
  private LabClockState finalClock;
  private String stoppedBy = "end of the run";
  /** Until every guest that starts with the lab is attached and the lab clock runs. */
  private volatile boolean startingUp = true;
  private long labTimeNs;
  private Instant started;

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
    this.view = new LiveView(out, options.ansi());
  }

  /**
   * How this run reaches the hypervisor and hands tokens to its guests ({@link Launcher#secure}).
   *
   * @throws IllegalArgumentException if guests here join a hypervisor elsewhere and no lab token is known
   */
  public void secure(ClientSecurity tls, Token operator, Token lab, List<String> hypervisorTls) {
    if (!runsHypervisor && !localGuests.isEmpty() && lab == null) {
      throw new IllegalArgumentException("guests joining the hypervisor at " + options.hypervisor() + " need its "
          + "lab token: ask the lab's operator for it and give --lab-token-file FILE or $BALLOONLAB_LAB_TOKEN "
          + "(docs/security.md)");
    }
    launcher.secure(tls, operator, lab, hypervisorTls);
  }

  /** Runs the scenario to its end (or Ctrl-C) and writes the report. @return 0 if every process ended well */
  public int run() throws IOException, InterruptedException {
    return launcher.run(this::runAndReport);
  }

  private int runAndReport() throws IOException, InterruptedException {
    out.printf("BalloonLab scenario %s (%s): %d guest(s) here of %d, %s of lab time; logs and report in %s%n",
        scenario.name(), scenario.source(), localGuests.size(), scenario.guests().size(),
        VmTable.labTime(scenario.duration().toNanos()), dir);
    if (!scenario.description().isBlank()) {
      out.println(scenario.description().strip());
    }
    out.flush();
    started = Instant.now();
    int code;
    IOException failure = null;
    try {
      code = runParts();
    } catch (IOException e) {
      // Start-up failed, or was interrupted: the processes started so far are stopped, and the report says what ran.
      code = ExitCodes.FAILED;
      if (launcher.stopRequested()) {
        stoppedBy = interrupted();
      } else {
        stoppedBy = e.getMessage();
        failure = e;
      }
    }
    writeReport();
    if (failure != null) {
      throw failure;
    }
    return launcher.stopRequested() ? ExitCodes.INTERRUPTED : code;
  }

  /** How a run stopped by Ctrl-C (or SIGTERM) says so, with whether it got past its start-up. */
  private String interrupted() {
    return startingUp ? "interrupted (Ctrl-C) during start-up" : "interrupted (Ctrl-C)";
  }

  /** Starts this machine's part of the lab, runs it to its end and stops it. @return its exit code */
  private int runParts() throws IOException, InterruptedException {
    HostPort address;
    int code;
    try {
      if (runsHypervisor) {
        address = launcher.startHypervisor(scenario.hypervisor(), options.listen());
        out.printf("hypervisor (pid %d) listening on %s%n", launcher.hypervisor().pid(), address);
        String metrics = launcher.hypervisor().lineStartingWith(HypervisorCommand.METRICS);
        if (metrics != null) {
          out.printf("hypervisor metrics (Prometheus) at %s%n", metrics);
        }
      } else {
        address = options.hypervisor();
      }
      code = runOn(address);
    } finally {
      launcher.stopHypervisor();
    }
    return code;
  }

  private int runOn(HostPort address) throws IOException, InterruptedException {
    int code;
    try (ManagementClient management = launcher.management(address)) {
      RunClock clock = null;
      try {
        if (runsHypervisor) {
          clock = launcher.holdAtZero(management);
          followEvents(management);
        }
        dashboard = LabDashboard.start(options.dashboard(), launcher, address, dir, out);
        powerOnGuestsHere(address, management);
        if (runsHypervisor) {
          awaitGuestsElsewhere(management);
          hold(clock, management, address);
        } else {
          watch(management);
        }
      } catch (IOException e) {
        if (!launcher.stopRequested()) {
          throw e;
        }
        stoppedBy = interrupted();
      } finally {
        code = stopGuests();
        if (runsHypervisor) {
          end(management);
        }
        if (clock != null) {
          clock.close();
        }
        if (dashboard != null) {
          dashboard.close();
        }
      }
    }
    return code;
  }

  /** Powers this machine's guests that start with the lab on, one at a time, in the scenario's order. */
  private void powerOnGuestsHere(HostPort address, ManagementClient management)
      throws IOException, InterruptedException {
    for (GuestSpec g : localGuests) {
      if (g.autostart()) {
        JvmProcess p = launcher.powerOn(g, address, management);
        view.line(String.format(Locale.ROOT, "powered on %s (pid %d): %s of memory, %s", g.name(), p.pid(),
            g.memory(), String.join(" + ", g.workloads())));
      }
    }
  }

  /** In a split lab: waits (with the clock held at 0) until the other parts' guests are attached too. */
  private void awaitGuestsElsewhere(ManagementClient management) throws IOException, InterruptedException {
    List<String> elsewhere = scenario.guests().stream().filter(g -> g.autostart() && !localGuests.contains(g))
        .map(GuestSpec::name).toList();
    if (elsewhere.isEmpty()) {
      return;
    }
    view.line("waiting for " + String.join(", ", elsewhere) + " to be powered on by the other parts of the lab "
        + "(the clock is held at 0 until they are attached)");
    // As long as the other parts take (by design), but not past this part's own hypervisor: if it exits, so does
    // the wait. Each look has the command deadline; Ctrl-C ends it too.
    launcher.awaitVms(management, vms -> elsewhere.stream().allMatch(n -> vms.stream()
        .anyMatch(v -> v.getName().equals(n) && v.getAttached())), launcher.hypervisor(), null);
  }

  /**
   * The holder's run: to each lab time at which there is a sample, an action or the end, and what is due there.
   */
  private void hold(RunClock clock, ManagementClient management, HostPort address)
      throws IOException, InterruptedException {
    startingUp = false;
    Set<String> here = new LinkedHashSet<>();
    localGuests.forEach(g -> here.add(g.name()));
    schedule = new ScheduledActions(scenario, here, launcher, management, address, view);
    long interval = scenario.report().sampleInterval().toNanos();
    long end = scenario.duration().toNanos();
    long nextSample = 0;
    while (true) {
      long reached;
      try {
        reached = clock.runTo(Math.min(Math.min(nextSample, schedule.nextAt()), end), this::hypervisorGone);
      } catch (IOException e) {
        stoppedBy = e.getMessage();
        return;
      }
      if (reached < 0) {
        stoppedBy = launcher.stopRequested() ? interrupted() : "the hypervisor exited";
        sample(management, -1);
        return;
      }
      labTimeNs = reached;
      schedule.applyDue(reached);
      if (reached >= nextSample || reached >= end) {
        boolean answered = sample(management, reached);
        nextSample = (reached / interval + 1) * interval;
        if (!answered && hypervisorGone()) {
          stoppedBy = "the hypervisor exited";
          return;
        }
        if (answered && last.getVmsCount() == 0 && !schedule.startPendingHere() && reached < end) {
          stoppedBy = "every guest ended";
          return;
        }
      }
      if (reached >= end) {
        return;
      }
    }
  }

  private boolean hypervisorGone() {
    return launcher.stopRequested() || launcher.hypervisor() != null && !launcher.hypervisor().isAlive();
  }

  /**
   * A part without the hypervisor: shows the lab now and then, and ends when the clock stands at the end of the
   * run (the hypervisor's part holds it there while the guests stop), when its guests have all ended, or on
   * Ctrl-C.
   */
  private void watch(ManagementClient management) throws InterruptedException {
    startingUp = false;
    long end = scenario.duration().toNanos();
    long wallStart = System.nanoTime();
    int failures = 0;
    while (!launcher.awaitStop(WATCH_PERIOD.toNanos())) {
      try {
        ListVmsResponse state = management.stub().listVms(ListVmsRequest.getDefaultInstance());
        failures = 0;
        LabClockState c = state.getMachine().getClock();
        labTimeNs = c.getLockstep() ? c.getLabTimeNs() : System.nanoTime() - wallStart;
        view.table(VmTable.labTime(labTimeNs), state);
        if (labTimeNs >= end) {
          stoppedBy = "the lab reached its end";
          return;
        }
      } catch (StatusRuntimeException e) {
        if (++failures >= 3) {
          stoppedBy = "the hypervisor stopped answering";
          return;
        }
      }
      if (!localGuests.isEmpty() && launcher.guests().values().stream().noneMatch(JvmProcess::isAlive)) {
        stoppedBy = "every guest here ended";
        return;
      }
    }
    stoppedBy = interrupted();
  }

  /**
   * Samples the lab once, at lab time {@code ns} (-1: wherever the running clock is now, read with the sample);
   * false if the hypervisor does not answer.
   */
  private boolean sample(ManagementClient management, long at) {
    ListVmsResponse state;
    try {
      state = management.stub().listVms(ListVmsRequest.getDefaultInstance());
    } catch (StatusRuntimeException e) {
      view.line("the hypervisor does not answer: " + e.getStatus().getCode() + " " + e.getStatus().getDescription());
      return false;
    }
    last = state;
    sampled++;
    long ns = at >= 0 ? at : Math.max(labTimeNs, state.getMachine().getClock().getLabTimeNs());
    labTimeNs = ns;
    double t = ns / 1e9;
    String freeState = VmTable.freeState(state.getMachine());
    // Rows in the VMs' natural order (vm2 before vm10), as every table and plot of the run lists them.
    List<VmState> vms = new ArrayList<>(state.getVmsList());
    vms.sort((a, b) -> VmName.NATURAL_ORDER.compare(a.getName(), b.getName()));
    for (VmState vm : vms) {
      lastSeen.put(vm.getName(), vm);
      samples.add(new VmSample(t, vm.getName(), vm.getMemoryPages(), vm.getMappedPages(),
          vm.getBalloon().getSizePages(), vm.getBalloon().getTargetPages(), vm.getHostSwappedPages(),
          vm.getGuest().getTrueFaults(), vm.getCounters().getHiddenFaults(), vm.getCounters().getHostPageOuts(),
          vm.getCounters().getHostPageIns(), vm.getCounters().getDoublePaging(),
          vm.getGuest().getSimulatedNs() / 1e9, state.getMachine().getFreeFrames(), freeState,
          vm.getGuest().getAccesses(), vm.getSharing().getSharedPages()));
    }
    view.table(VmTable.labTime(ns), state);
    return true;
  }

  /** Collects the machine's events as they happen; {@link #end} catches up with those still on the way. */
  private void followEvents(ManagementClient management) {
    Thread t = new Thread(() -> {
      try {
        Iterator<MachineEvent> it = management.streams()
            .watchEvents(WatchEventsRequest.newBuilder().setFollow(true).build());
        while (it.hasNext()) {
          MachineEvent e = it.next();
          events.put(e.getSequence(), e);
        }
      } catch (StatusRuntimeException e) {
        // The run is over (the channel was shut down), or the hypervisor went away or cannot stream events.
      }
    }, "lab-events");
    t.setDaemon(true);
    t.start();
  }

  /** Stops the guests started here (SIGTERM, then SIGKILL if they hang). @return 0 if all ended well */
  private int stopGuests() throws InterruptedException {
    int failures = 0;
    Set<String> expected = schedule == null ? Set.of() : schedule.stopped();
    for (Launcher.GuestEnd end : launcher.stopGuests(20)) {
      ends.put(end.vm(), end);
      // A JVM ended by the SIGTERM that stopped it, which it handles by shutting down cleanly; or by the Ctrl-C of
      // a terminal, which reaches the launcher's children too.
      boolean stoppedHere = end.exitCode() == ExitCodes.TERMINATED
          || end.exitCode() == ExitCodes.INTERRUPTED && launcher.stopRequested();
      if (!expected.contains(end.vm()) && end.exitCode() != ExitCodes.OK && !stoppedHere) {
        failures++;
        view.line(launcher.endedBadly(end));
      }
    }
    return failures == 0 ? ExitCodes.OK : ExitCodes.FAILED;
  }

  /**
   * The end of the hypervisor's part, with the clock still held: the guests of other parts stop when they see the
   * clock at the end (those that do not are powered off), then the last events and the clock's verdict are read.
   */
  private void end(ManagementClient management) throws InterruptedException {
    try {
      List<String> elsewhere = scenario.guests().stream().map(GuestSpec::name)
          .filter(n -> localGuests.stream().noneMatch(g -> g.name().equals(n))).toList();
      if (!elsewhere.isEmpty() && !launcher.stopRequested() && !hypervisorGone()) {
        view.line("waiting up to " + OTHERS_STOP_LIMIT.toSeconds() + " s for the guests of the other parts to stop");
        if (!launcher.awaitVms(management, vms -> vms.stream().noneMatch(v -> elsewhere.contains(v.getName())),
            null, OTHERS_STOP_LIMIT)) {
          for (VmState vm : management.stub().listVms(ListVmsRequest.getDefaultInstance()).getVmsList()) {
            view.line(vm.getName() + " did not stop; powering it off");
            management.stub().powerOffVm(PowerOffVmRequest.newBuilder().setVm(ManagementClient.select(vm.getName()))
                .build());
          }
        }
      }
      Iterator<MachineEvent> rest = management.stub().watchEvents(WatchEventsRequest.newBuilder()
          .setAfterSequence(events.isEmpty() ? 0 : events.lastKey())
          .build());
      rest.forEachRemaining(e -> events.put(e.getSequence(), e));
      finalClock = management.stub().getMachine(GetMachineRequest.getDefaultInstance()).getClock();
    } catch (StatusRuntimeException | IOException e) {
      view.line("the hypervisor did not answer at the end of the run: " + e.getMessage());
    }
  }

  private void writeReport() throws IOException {
    RunReport report = new RunReport(scenario, options.only().isEmpty() ? "all" : String.join(",", options.only()));
    report.run(stoppedBy, labTimeNs, sampled);
    LabClockState clock = finalClock != null ? finalClock
        : last != null ? last.getMachine().getClock() : LabClockState.getDefaultInstance();
    // A run interrupted before the hypervisor answered has no clock to report.
    boolean clockKnown = finalClock != null || last != null;
    if (runsHypervisor && clockKnown) {
      report.clock(clock);
    }
    Set<String> stopped = schedule == null ? Set.of() : schedule.stopped();
    List<GuestSpec> guests = new ArrayList<>(scenario.guests());
    guests.sort((a, b) -> VmName.NATURAL_ORDER.compare(a.name(), b.name()));
    for (GuestSpec g : guests) {
      VmState seen = schedule != null && schedule.poweredOff().containsKey(g.name())
          ? schedule.poweredOff().get(g.name()) : lastSeen.get(g.name());
      if (seen != null || ends.containsKey(g.name())) {
        report.vm(g.name(), seen, ends.get(g.name()), stopped.contains(g.name()));
      }
    }
    if (last != null) {
      report.machine(last.getMachine());
    }
    List<Plots.Marker> markers = new ArrayList<>();
    if (schedule != null) {
      report.actions(schedule.applied());
      schedule.applied().stream().filter(ScheduledActions.Applied::ok)
          .forEach(a -> markers.add(new Plots.Marker(a.labTimeNs() / 1e9, a.action().describe())));
    }
    report.events(events.values());
    Map<String, Long> pids = new LinkedHashMap<>();
    if (launcher.hypervisor() != null) {
      pids.put("hypervisor", launcher.hypervisor().pid());
    }
    launcher.guests().forEach((name, p) -> pids.put(name, p.pid()));
    Instant ended = Instant.now();
    report.wall(dir, started, ended, pids);
    List<Path> files = ReportWriter.write(dir, report.json(), samples, markers, scenario.name(),
        scenario.report().plots() && runsHypervisor && !samples.isEmpty());
    double wallSeconds = (ended.toEpochMilli() - started.toEpochMilli()) / 1000.0;
    out.println();
    out.printf(Locale.ROOT, "run ended: %s at lab time %s, after %.0f wall seconds (%.2f simulated s per wall s); "
        + "%d samples; %s%n", stoppedBy, VmTable.labTime(labTimeNs), wallSeconds,
        wallSeconds > 0 ? labTimeNs / 1e9 / wallSeconds : 0, sampled, !runsHypervisor
            ? "the part with the hypervisor reports the lab clock" : clockKnown ? verdict(report)
            : "the lab clock never ran");
    List<Launcher.GuestEnd> endsInOrder = new ArrayList<>(ends.values());
    endsInOrder.sort((a, b) -> VmName.NATURAL_ORDER.compare(a.vm(), b.vm()));
    for (Launcher.GuestEnd end : endsInOrder) {
      out.printf("%s: %s%n", end.vm(), end.summary() == null ? "no summary (it did not stop cleanly)" : end.summary());
    }
    out.println("report: " + String.join(", ", files.stream().map(Path::toString).toList()));
    out.println(REPORT + dir);
    out.flush();
  }

  private static String verdict(RunReport report) {
    if (report.json().path("reproducible").asBoolean()) {
      return "reproducible";
    }
    List<String> why = new ArrayList<>();
    report.json().path("not_reproducible_because").forEach(n -> why.add(n.asText()));
    return "not reproducible: " + String.join("; ", why);
  }
}
