package org.balloonlab.lab;

import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.balloonlab.lab.scenario.GuestSpec;
import org.balloonlab.lab.scenario.Scenario;
import org.balloonlab.lab.scenario.ScheduledAction;
import org.balloonlab.proto.PowerOffVmRequest;
import org.balloonlab.proto.SetBalloonTargetRequest;
import org.balloonlab.proto.SetDriverModeRequest;
import org.balloonlab.proto.SetTauRequest;
import org.balloonlab.proto.SetTauResponse;
import org.balloonlab.proto.VmState;
import org.balloonlab.units.HostPort;
import org.balloonlab.units.MemorySize;

/**
 * A scenario's schedule as the part of the lab that holds the clock applies it: each action when the clock stands
 * at its lab time (or the first quantum boundary after it), so it lands at that simulated instant. Operators'
 * orders ({@code driver}, {@code balloon}, {@code tau}, {@code poweroff}) go through the management service; {@code kill}
 * kills the guest's JVM and waits until the hypervisor has released its VM, {@code start} powers a guest on and
 * waits until its VM is attached. A guest that runs on another machine cannot be killed or started from here; its
 * actions are logged as skipped.
 */
final class ScheduledActions {
  /** How long a killed guest's VM may stay listed before the kill is reported as not seen by the hypervisor. */
  private static final Duration RELEASE_LIMIT = Duration.ofSeconds(30);

  /**
   * One action as it was applied.
   *
   * @param labTimeNs the lab time the clock stood at when it was applied
   * @param outcome {@code ok: ...}, {@code failed: ...} or {@code skipped: ...}
   */
  record Applied(ScheduledAction action, long labTimeNs, String outcome) {
    boolean ok() {
      return outcome.startsWith("ok");
    }
  }

  private final Scenario scenario;
  private final Set<String> local;
  private final Launcher launcher;
  private final ManagementClient management;
  private final HostPort address;
  private final LiveView view;
  private final List<Applied> applied = new ArrayList<>();
  private final Set<String> stopped = new LinkedHashSet<>();
  private final Map<String, VmState> poweredOff = new LinkedHashMap<>();
  private int next;

  /** @param local the guests this machine runs */
  ScheduledActions(Scenario scenario, Set<String> local, Launcher launcher, ManagementClient management,
                   HostPort address, LiveView view) {
    this.scenario = scenario;
    this.local = local;
    this.launcher = launcher;
    this.management = management;
    this.address = address;
    this.view = view;
  }

  /** The lab time of the next action not applied yet, or {@link Long#MAX_VALUE}. */
  long nextAt() {
    return next < scenario.actions().size() ? scenario.actions().get(next).at().toNanos() : Long.MAX_VALUE;
  }

  /** Applies, in order, every action due at lab time {@code labTimeNs} that is not applied yet. */
  void applyDue(long labTimeNs) throws InterruptedException {
    while (nextAt() <= labTimeNs) {
      ScheduledAction a = scenario.actions().get(next++);
      Applied done = new Applied(a, labTimeNs, apply(a));
      applied.add(done);
      view.line(VmTable.labTime(labTimeNs) + ": " + a.describe() + ": " + done.outcome());
    }
  }

  /** Whether a guest of this machine is still to be started by the schedule. */
  boolean startPendingHere() {
    return scenario.actions().subList(next, scenario.actions().size()).stream()
        .anyMatch(a -> a.kind() == ScheduledAction.Kind.START && local.contains(a.vm()));
  }

  List<Applied> applied() {
    return Collections.unmodifiableList(applied);
  }

  /** Guests the schedule killed or powered off: their ending is expected, whatever their exit code. */
  Set<String> stopped() {
    return Collections.unmodifiableSet(stopped);
  }

  /** The last state of each VM the schedule powered off, as the hypervisor answered it. */
  Map<String, VmState> poweredOff() {
    return Collections.unmodifiableMap(poweredOff);
  }

  private String apply(ScheduledAction a) throws InterruptedException {
    boolean byProcess = a.kind() == ScheduledAction.Kind.KILL || a.kind() == ScheduledAction.Kind.START;
    if (byProcess && !local.contains(a.vm())) {
      return "skipped: " + a.vm() + " runs on another machine, whose part of the lab only powers its guests on";
    }
    try {
      if (a.kind() == ScheduledAction.Kind.TAU) {
        return tau(a);
      }
      var vm = ManagementClient.select(a.vm());
      return switch (a.kind()) {
        case DRIVER -> "ok: driver asked to switch to " + management.stub().setDriverMode(SetDriverModeRequest
            .newBuilder().setVm(vm).setMode(DriverModes.parse(a.argument())).build()).getBalloon().getRequestedMode();
        case BALLOON -> {
          long pages = MemorySize.parse(a.argument()).pages();
          VmState s = management.stub().setBalloonTarget(SetBalloonTargetRequest.newBuilder().setVm(vm)
              .setTargetPages(pages).build());
          yield "ok: balloon target " + MemorySize.humanPages(s.getBalloon().getTargetPages());
        }
        case POWEROFF -> {
          VmState s = management.stub().powerOffVm(PowerOffVmRequest.newBuilder().setVm(vm).build());
          poweredOff.put(s.getName(), s);
          stopped.add(a.vm());
          yield "ok: powered off holding " + MemorySize.humanPages(s.getMappedPages()) + " mapped";
        }
        case KILL -> kill(a.vm());
        case START -> start(a.vm());
        case TAU -> throw new IllegalStateException("handled above");
      };
    } catch (StatusRuntimeException e) {
      return "failed: " + e.getStatus().getCode() + " " + e.getStatus().getDescription();
    } catch (IOException | RuntimeException e) {
      return "failed: " + e.getMessage();
    }
  }

  private String tau(ScheduledAction a) {
    SetTauRequest.Builder request = SetTauRequest.newBuilder().setTau(Double.parseDouble(a.argument()));
    if (a.vm().isEmpty()) {
      SetTauResponse r = management.stub().setTau(request.build());
      return "ok: the machine's idle memory tax rate is " + r.getMachineTau();
    }
    SetTauResponse r = management.stub().setTau(request.setVm(ManagementClient.select(a.vm())).build());
    return "ok: " + a.vm() + "'s idle memory tax rate is " + r.getVm().getReclamation().getTau();
  }

  private String kill(String vm) throws IOException, InterruptedException {
    JvmProcess p = launcher.guests().get(vm);
    if (p == null || !p.isAlive()) {
      return "failed: " + vm + " is not running";
    }
    p.kill();
    stopped.add(vm);
    boolean released = launcher.awaitVms(management, vms -> vms.stream().noneMatch(v -> v.getName().equals(vm)),
        null, RELEASE_LIMIT);
    return released ? "ok: killed with SIGKILL; the hypervisor released its VM"
        : "failed: killed with SIGKILL, but the hypervisor still lists its VM after " + RELEASE_LIMIT.toSeconds()
            + " s";
  }

  private String start(String vm) throws IOException, InterruptedException {
    if (launcher.guests().containsKey(vm)) {
      return "failed: " + vm + " was started already";
    }
    GuestSpec g = scenario.guest(vm).orElseThrow();
    launcher.powerOn(g, address, management);
    return "ok: started; its VM is attached";
  }
}
