package org.balloonlab.hypervisor.machine;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.LongSupplier;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.hypervisor.event.EventLog;
import org.balloonlab.hypervisor.policy.FreeMemoryState;
import org.balloonlab.hypervisor.policy.FreeMemoryThresholds;
import org.balloonlab.hypervisor.policy.MemoryPressure;
import org.balloonlab.hypervisor.policy.PolicyResult;
import org.balloonlab.hypervisor.policy.ReclamationPolicy;
import org.balloonlab.hypervisor.policy.ReclamationSettings;
import org.balloonlab.hypervisor.policy.TargetDecision;
import org.balloonlab.hypervisor.policy.VmDemand;
import org.balloonlab.hypervisor.time.CostModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reclamation mechanism (ESX, ARCHITECTURE.md section 6): once a period it asks the {@link ReclamationPolicy}
 * for every VM's allocation, turns each allocation into a balloon target (configured size minus allocation, never
 * into the VM's min), and falls back to hypervisor paging where ballooning cannot deliver: a VM whose balloon has
 * stalled is paged down to its allocation, and in the hard and low free-memory states enough is paged to bring
 * free memory back over the hard state's exit. In the low state a VM above its target is also held on its next
 * batch until it is paged back under it.
 *
 * <p>The policy decides how much each VM gets; this class decides nothing itself, it carries decisions out with
 * the {@link BalloonBackend} and the {@link HostPager}. A target an operator pinned is left alone until it is
 * handed back.
 *
 * <p>Not thread-safe: every method assumes the caller holds the machine's lock.
 */
final class Reclaimer {
  /** The machine's logger: the hypervisor's log reads as it did when the machine was one class. */
  private static final Logger log = LoggerFactory.getLogger(Machine.class);

  private final ReclamationPolicy policy;
  /** The machine-wide idle memory tax rate; an operator may change it at run time ({@link #setTau}). */
  private double tau;
  private final long stallNanos;
  private final MachineMemory memory;
  private final FreeMemoryTracker freeMemory;
  private final HostPager pager;
  private final BalloonBackend balloon;
  private final CostModel costs;
  private final LongSupplier clock;
  private final MachineCounters machineCounters;
  private final EventLog events;

  /** Charges each VM its share of the frames it shares (docs/page-sharing.md). */
  private final PageSharing sharing;

  Reclaimer(ReclamationSettings settings, long stallNanos, MachineMemory memory, FreeMemoryTracker freeMemory,
            HostPager pager, BalloonBackend balloon, CostModel costs, LongSupplier clock,
            MachineCounters machineCounters, PageSharing sharing, EventLog events) {
    this.sharing = sharing;
    this.events = events;
    this.policy = settings.newPolicy();
    this.tau = settings.tau();
    this.stallNanos = stallNanos;
    this.memory = memory;
    this.freeMemory = freeMemory;
    this.pager = pager;
    this.balloon = balloon;
    this.costs = costs;
    this.clock = clock;
    this.machineCounters = machineCounters;
  }

  String policyName() {
    return policy.name();
  }

  /**
   * One decision of the reclamation policy: updates the free-memory state, gives every VM an allocation target,
   * sets the balloon targets from them (in the high state only deflating), and below the high state pages down to
   * its target every VM above it whose balloon has stalled, and in the hard and low states as much as brings free
   * memory back over the hard state's exit. Under the manual policy only the state is updated: targets are the
   * operator's, and nothing is paged beyond what faults need.
   *
   * @param vms the powered-on VMs, in power-on order
   */
  void rebalance(Collection<Vm> vms) {
    freeMemory.update();
    if (vms.isEmpty()) {
      return;
    }
    List<Vm> list = new ArrayList<>(vms);
    MemoryPressure pressure = pressure();
    List<VmDemand> demands = demands(list);
    PolicyResult result = policy.decide(pressure, demands);
    long[] targets = result.allocations();
    boolean automatic = policy.reclaims();
    long now = clock.getAsLong();
    DecisionRecorder recorder = new DecisionRecorder(now, pressure, list, demands, result);
    for (int i = 0; i < list.size(); i++) {
      Vm vm = list.get(i);
      long target = Math.max(vm.minPages, Math.min(vm.memoryPages(), targets[i]));
      if (!vm.targetPinned) {
        long fromBalloon = vm.balloon.target;
        // The allocation the balloon target stood for: in the high state allocations move without the target.
        long fromAllocation = vm.memoryPages() - fromBalloon;
        if (target != vm.allocationTarget && log.isDebugEnabled()) {
          log.debug("{}: allocation {} -> {} pages (mapped {}, balloon {} of {}, f {}), free {}, state {}", vm,
              vm.allocationTarget, target, vm.mappedPages, vm.balloon.size, vm.balloon.target,
              vm.sampler.activeFraction(), memory.freeFrames(), freeMemory.state().label());
        }
        vm.allocationTarget = target;
        // What the VM must give up is its size minus its allocation; while its driver works, pages the hypervisor
        // already holds in host swap are part of that (they back none of its allocation), so the balloon takes
        // only the rest. Otherwise a VM whose untouched pages went to host swap early on would hold less than its
        // allocation for good, and the shares split would tilt toward the others. A stalled balloon keeps the
        // whole request: hypervisor paging stands in for it, and the target shows what the driver did not do.
        long inHostSwap = vm.balloon.stalled(now, stallNanos) ? 0 : vm.hostSwappedPages;
        long balloonPages = Math.max(0, vm.memoryPages() - target - inHostSwap);
        // No reclamation in the high state: there a balloon only deflates toward its VM's allocation.
        if (automatic && (freeMemory.state() != FreeMemoryState.HIGH || balloonPages < vm.balloon.target)) {
          balloon.setPolicyTarget(vm, balloonPages, now);
        }
        if (vm.balloon.target != fromBalloon) {
          TargetDecision decision = recorder.decision(i, fromBalloon, fromAllocation);
          vm.recordDecision(decision);
          events.publish(decision);
        }
      }
      vm.sharesPerPage = ReclamationPolicy.sharesPerPage(vm.shares,
          Math.min(sharing.chargedPages(vm), vm.allocationTarget), vm.sampler.activeFraction(), tauOf(vm));
    }
    if (automatic && freeMemory.state() != FreeMemoryState.HIGH) {
      pageToTargets(list, now);
    }
    for (Vm vm : list) {
      occupyHostDisk(vm, pager.restoreReservation(vm) * costs.hostSwapReadNs(), now);
    }
    freeMemory.update();
  }

  private MemoryPressure pressure() {
    long frames = memory.frames();
    FreeMemoryThresholds thresholds = freeMemory.thresholds();
    return new MemoryPressure(frames, memory.freeFrames(), freeMemory.state(), thresholds.targetFreeFrames(frames),
        thresholds.hysteresisFrames(frames));
  }

  /** The machine-wide idle memory tax rate now. */
  double tau() {
    return tau;
  }

  /** Sets the machine-wide idle memory tax rate, for the VMs without a rate of their own; the next decision uses it. */
  void setTau(double rate) {
    this.tau = rate;
  }

  /** The rate that taxes {@code vm}: its own, or the machine's. */
  double tauOf(Vm vm) {
    return Double.isNaN(vm.ownTau) ? tau : vm.ownTau;
  }

  private List<VmDemand> demands(List<Vm> list) {
    List<VmDemand> demands = new ArrayList<>(list.size());
    for (Vm vm : list) {
      GuestStatus g = vm.guest;
      long current = vm.targetPinned ? vm.memoryPages() - vm.balloon.target : vm.allocationTarget;
      demands.add(new VmDemand(vm.id(), vm.memoryPages(), vm.minPages, vm.shares, sharing.chargedPages(vm),
          vm.hostSwappedPages, current,
          vm.sampler.activeFraction(), vm.targetPinned, g == null ? -1 : g.freePages(),
          g == null ? -1 : g.majorFaults(), tauOf(vm), vm.guestStats == null ? null : vm.guestStats.stats()));
    }
    return demands;
  }

  /**
   * The fallback to ballooning. A VM whose balloon has stalled is paged down to its allocation. In the hard and
   * low states the hypervisor also pages VMs whose balloons are still working, but only as much as brings free
   * memory back over the hard state's exit, largest excess first: paging is the emergency brake, and the balloons
   * go on reclaiming the rest with the guests choosing their own victims.
   */
  private void pageToTargets(List<Vm> list, long now) {
    FreeMemoryThresholds thresholds = freeMemory.thresholds();
    long hardExit = (long) Math.ceil(memory.frames() * (thresholds.hard() + thresholds.hysteresis()) / 100.0);
    long need = freeMemory.state().pages() ? hardExit - memory.freeFrames() : 0;
    List<Vm> byExcess = new ArrayList<>(list);
    byExcess.sort((a, b) -> Long.compare(excess(b), excess(a)));
    for (Vm vm : byExcess) {
      long excess = excess(vm);
      if (excess <= 0) {
        break;
      }
      long pages = vm.balloon.stalled(now, stallNanos) ? excess : Math.min(excess, need);
      if (pages > 0) {
        long paged = pager.pageOut(vm, pages);
        occupyHostDisk(vm, paged * costs.hostSwapWriteNs(), now);
        vm.policyPageOuts += paged;
        machineCounters.policyPageOuts += paged;
        need -= paged;
      }
    }
  }

  /** Frames a VM holds beyond what it is allowed: its allocation, or its min if that is more. */
  private long excess(Vm vm) {
    return sharing.chargedPages(vm) - Math.max(vm.allocationTarget, vm.minPages);
  }

  /**
   * The low state's brake: a VM above its target does not run until the hypervisor has paged it back under it.
   * The simulation does the paging at once and charges the VM the time it would have waited, descheduled.
   */
  void holdIfAboveTarget(Vm vm, BatchResult result) {
    if (freeMemory.state() != FreeMemoryState.LOW || excess(vm) <= 0) {
      return;
    }
    long excess = excess(vm);
    pager.pageOut(vm, excess);
    // A page-out the host swap failed powered the VM off: its batch ends here.
    vm.requirePoweredOn();
    long ns = excess * costs.hostSwapWriteNs();
    vm.blockedBatches++;
    vm.blockedNs += ns;
    result.hypervisorNs += ns;
  }

  /**
   * The host swap disk works {@code ns} on {@code vm}'s pages from lab time {@code now} on, after what it already
   * had queued for that VM. Nobody waits now: the policy pages asynchronously, as ESX's swapper does.
   */
  private static void occupyHostDisk(Vm vm, long ns, long now) {
    if (ns > 0) {
      vm.hostDiskBusyUntilNs = Math.max(vm.hostDiskBusyUntilNs, now) + ns;
    }
  }

  /**
   * Makes {@code vm}'s batch wait until the host swap disk has finished with its pages: the hypervisor's paging
   * on its account competes with its own I/O, and the VM whose memory it is pays. On the lab clock {@code now} is
   * the boundary the batch's quantum started at, so the wait does not depend on when the batch arrived; a VM
   * that stayed idle (sent no batch) while the disk worked waits for nothing.
   */
  void waitForHostDisk(Vm vm, BatchResult result) {
    long wait = vm.hostDiskBusyUntilNs - clock.getAsLong();
    if (wait > 0) {
      vm.hostDiskWaitNs += wait;
      result.hypervisorNs += wait;
    }
    vm.hostDiskBusyUntilNs = 0;
  }

  /** Hands a pinned balloon target back to the policy, which sets it from the next decision on. */
  void unpin(Vm vm) {
    vm.requirePoweredOn();
    if (vm.targetPinned) {
      vm.targetPinned = false;
      log.info("{}: balloon target handed back to the {} policy", vm, policy.name());
    }
  }
}
