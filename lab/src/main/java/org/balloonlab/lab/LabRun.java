package org.balloonlab.lab;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.balloonlab.guest.cli.GuestAgentCommand;
import org.balloonlab.hypervisor.cli.HypervisorCommand;
import org.balloonlab.lab.report.Plots;
import org.balloonlab.lab.report.ReportWriter;
import org.balloonlab.lab.report.VmSample;
import org.balloonlab.lab.scenario.GuestSpec;
import org.balloonlab.lab.scenario.Scenario;
import org.balloonlab.lab.scenario.ScheduledAction;
import org.balloonlab.proto.ListVmsRequest;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.proto.MachineEvent;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.PowerOffVmRequest;
import org.balloonlab.proto.SetBalloonTargetRequest;
import org.balloonlab.proto.SetDriverModeRequest;
import org.balloonlab.proto.VmState;
import org.balloonlab.proto.WatchEventsRequest;
import org.balloonlab.units.HostPort;
import org.balloonlab.units.MemorySize;

/**
 * One run of a scenario on this machine: starts the hypervisor and the guests as separate JVMs (or the part of
 * the lab this machine runs), samples the lab through the management service, redraws a live table, applies
 * the scheduled actions when they are due, stops everything at the end or on Ctrl-C, and writes the report.
 *
 * <p>Nothing is left running: every process it starts is stopped at the end of {@link #run}, and a shutdown hook
 * asks the run to end early (Ctrl-C), waits for it to stop its processes and write its report, and kills
 * whatever is still alive if that takes too long.
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

  private final Scenario scenario;
  private final Options options;
  private final PrintWriter out;
  private final Path dir;
  private final boolean runsHypervisor;
  private final List<GuestSpec> localGuests = new ArrayList<>();
  private final List<JvmProcess> children = new CopyOnWriteArrayList<>();
  private final Map<String, JvmProcess> guests = new LinkedHashMap<>();
  /** Guests killed or powered off by the schedule: their ending is expected, whatever their exit code. */
  private final Set<String> killed = new LinkedHashSet<>();
  private final List<VmSample> samples = new ArrayList<>();
  private final Map<String, VmState> lastSeen = new LinkedHashMap<>();
  private final List<ObjectNode> actionLog = new ArrayList<>();
  private final List<MachineEvent> events = new CopyOnWriteArrayList<>();
  private final CountDownLatch stopRequested = new CountDownLatch(1);
  private final CountDownLatch finished = new CountDownLatch(1);
  private JvmProcess hypervisor;
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
    this.dir = options.runDir() != null ? options.runDir() : Path.of(scenario.report().directory(),
        scenario.name() + "-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss",
            Locale.ROOT)));
  }

  /** The run's folder: logs of every process and the report. */
  public Path directory() {
    return dir;
  }

  /** Runs the scenario to its end (or Ctrl-C) and writes the report. @return 0 if every process ended well */
  public int run() throws IOException, InterruptedException {
    Files.createDirectories(dir);
    Thread hook = new Thread(this::onShutdown, "lab-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      return runAndReport();
    } finally {
      stopAll();
      finished.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // Ctrl-C: the hook is running and waits for us.
      }
    }
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
      HostPort listen = options.listen() != null ? options.listen()
          : scenario.hypervisor().listen() != null ? scenario.hypervisor().listen() : HostPort.parse("127.0.0.1:0");
      List<String> args = new ArrayList<>(scenario.hypervisor().flags());
      args.addAll(List.of("--listen", listen.toString(), "--port-file", dir.resolve("hypervisor.port").toString()));
      hypervisor = JvmProcess.start("hypervisor", HypervisorCommand.class.getName(), args, "768m", dir, null);
      children.add(hypervisor);
      address = HostPort.parse(waitForLine(hypervisor, HypervisorCommand.LISTENING, 30));
      out.printf("hypervisor (pid %d) listening on %s%n", hypervisor.pid(), address);
    } else {
      address = options.hypervisor();
    }
    // One at a time: JVMs starting together on a small machine can take longer than a guest waits to power on.
    for (GuestSpec g : localGuests) {
      if (g.autostart()) {
        startGuest(g, address);
        waitForLine(guests.get(g.name()), GuestAgentCommand.READY, 60);
      }
    }
    ManagedChannel channel = NettyChannelBuilder.forTarget(address.target()).usePlaintext().build();
    Thread follower = null;
    int code;
    try {
      var management = ManagementServiceGrpc.newBlockingStub(channel);
      follower = followEvents(channel);
      startNanos = System.nanoTime();
      loop(management, address);
    } finally {
      code = stopGuests();
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      if (follower != null) {
        follower.join(5000);
      }
      if (hypervisor != null) {
        hypervisor.stop(10, TimeUnit.SECONDS);
      }
    }
    writeReport();
    return code;
  }

  private void loop(ManagementServiceGrpc.ManagementServiceBlockingStub management, HostPort address)
      throws InterruptedException, IOException {
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
        } else if (++failedSamples >= 3 && (hypervisor == null || !hypervisor.isAlive())) {
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
      if (hypervisor != null && !hypervisor.isAlive()) {
        stoppedBy = "the hypervisor exited";
        return;
      }
      boolean pendingStarts = actions.subList(nextAction, actions.size()).stream()
          .anyMatch(a -> a.kind() == ScheduledAction.Kind.START && isLocal(a.vm()));
      if (!localGuests.isEmpty() && !pendingStarts && guests.values().stream().noneMatch(JvmProcess::isAlive)) {
        stoppedBy = "every guest here ended";
        return;
      }
      long wake = Math.min(end, nextSample);
      if (nextAction < actions.size()) {
        wake = Math.min(wake, actions.get(nextAction).at().toNanos());
      }
      long waitNanos = Math.max(1_000_000, wake - (System.nanoTime() - startNanos));
      if (stopRequested.await(waitNanos, TimeUnit.NANOSECONDS)) {
        stoppedBy = "interrupted (Ctrl-C)";
        sample(management, System.nanoTime() - startNanos);
        return;
      }
    }
  }

  private boolean isLocal(String vm) {
    return localGuests.stream().anyMatch(g -> g.name().equals(vm));
  }

  private void startGuest(GuestSpec g, HostPort address) throws IOException {
    List<String> args = new ArrayList<>(List.of("--hypervisor", address.target()));
    args.addAll(g.flags());
    args.addAll(List.of("--status-interval", "0s"));
    JvmProcess p = JvmProcess.start(g.name(), GuestAgentCommand.class.getName(), args, "512m", dir, null);
    children.add(p);
    guests.put(g.name(), p);
    out.printf("started %s (pid %d): %s of memory, %s%n", g.name(), p.pid(), g.memory(),
        String.join(" + ", g.workloads()));
    out.flush();
  }

  /** Applies one scheduled action where this machine is the one to do it, and logs what happened. */
  private void apply(ScheduledAction a, ManagementServiceGrpc.ManagementServiceBlockingStub management,
                     HostPort address, long elapsedNanos) throws InterruptedException {
    String outcome;
    boolean management0 = a.kind() == ScheduledAction.Kind.DRIVER || a.kind() == ScheduledAction.Kind.BALLOON
        || a.kind() == ScheduledAction.Kind.POWEROFF;
    if (management0 && !runsHypervisor) {
      outcome = "skipped: the machine that runs the hypervisor applies it";
    } else if (!management0 && !isLocal(a.vm())) {
      outcome = "skipped: " + a.vm() + " runs on another machine";
    } else {
      try {
        var stub = management.withDeadlineAfter(10, TimeUnit.SECONDS);
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
            JvmProcess p = guests.get(a.vm());
            if (p == null || !p.isAlive()) {
              yield "failed: " + a.vm() + " is not running";
            }
            p.kill();
            killed.add(a.vm());
            yield "ok: killed pid " + p.pid() + " with SIGKILL";
          }
          case START -> {
            GuestSpec g = scenario.guest(a.vm()).orElseThrow();
            if (guests.containsKey(a.vm())) {
              yield "failed: " + a.vm() + " was started already";
            }
            startGuest(g, address);
            yield "ok: started pid " + guests.get(a.vm()).pid();
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
  private boolean sample(ManagementServiceGrpc.ManagementServiceBlockingStub management, long elapsedNanos) {
    ListVmsResponse state;
    try {
      state = management.withDeadlineAfter(10, TimeUnit.SECONDS).listVms(ListVmsRequest.getDefaultInstance());
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

  private Thread followEvents(ManagedChannel channel) {
    Thread t = new Thread(() -> {
      try {
        Iterator<MachineEvent> it = ManagementServiceGrpc.newBlockingStub(channel)
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
    for (Map.Entry<String, JvmProcess> e : guests.entrySet()) {
      JvmProcess g = e.getValue();
      int code = g.stop(20, TimeUnit.SECONDS);
      if (!killed.contains(e.getKey()) && code != 0 && code != 143) {
        failures++;
        out.printf("%s exited with code %d (see %s)%n", g.name(), code, dir.resolve(g.name() + ".err.log"));
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
      JvmProcess p = guests.get(e.getKey());
      if (p != null) {
        vm.put("exit_code", p.isAlive() ? -1 : p.process().exitValue());
        vm.put("stopped_by_schedule", killed.contains(e.getKey()));
        String summary = p.lineStartingWith(GuestAgentCommand.SUMMARY);
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
    for (JvmProcess g : guests.values()) {
      String summary = g.lineStartingWith(GuestAgentCommand.SUMMARY);
      out.printf("%s: %s%n", g.name(), summary == null ? "no summary (it did not stop cleanly)" : summary);
    }
    out.println("report: " + String.join(", ", files.stream().map(Path::toString).toList()));
    out.println(REPORT + dir);
    out.flush();
  }

  private String waitForLine(JvmProcess p, String prefix, int seconds) throws InterruptedException, IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (System.nanoTime() < deadline) {
      String v = p.lineStartingWith(prefix);
      if (v != null) {
        return v;
      }
      if (!p.isAlive()) {
        throw new IOException(p.name() + " exited with code " + p.process().exitValue() + " before it was ready; "
            + "see " + dir.resolve(p.name() + ".err.log"));
      }
      if (stopRequested.await(20, TimeUnit.MILLISECONDS)) {
        throw new IOException("interrupted while " + p.name() + " was starting");
      }
    }
    throw new IOException(p.name() + " did not get ready within " + seconds + " s");
  }

  /** Ctrl-C: asks the run to end, waits for its report, then makes sure no process is left. */
  private void onShutdown() {
    stopRequested.countDown();
    try {
      finished.await(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    stopAll();
  }

  private void stopAll() {
    for (int i = children.size() - 1; i >= 0; i--) {
      JvmProcess p = children.get(i);
      if (p.isAlive()) {
        try {
          p.stop(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          p.close();
        }
      }
    }
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
