package org.balloonlab.hypervisor.machine;

import java.util.ArrayList;
import java.util.List;
import org.balloonlab.hypervisor.policy.MemoryPressure;
import org.balloonlab.hypervisor.policy.PolicyResult;
import org.balloonlab.hypervisor.policy.TargetDecision;
import org.balloonlab.hypervisor.policy.VmDemand;

/**
 * Turns one policy decision into {@link TargetDecision} records for the VMs whose target it moved. The view of
 * every VM (its shares, allocation, activity, rho) is built once per decision, only when some target moved, and
 * shared by the records of that decision: a round that moves nothing costs nothing.
 *
 * <p>Not thread-safe: used under the machine's lock, within one {@link Reclaimer#rebalance}.
 */
final class DecisionRecorder {
  private final long labTimeNs;
  private final MemoryPressure pressure;
  private final List<Vm> vms;
  private final List<VmDemand> demands;
  private final PolicyResult result;
  private List<TargetDecision.VmShare> shares;

  DecisionRecorder(long labTimeNs, MemoryPressure pressure, List<Vm> vms, List<VmDemand> demands,
                   PolicyResult result) {
    this.labTimeNs = labTimeNs;
    this.pressure = pressure;
    this.vms = vms;
    this.demands = demands;
    this.result = result;
  }

  /** The decision for the {@code i}th VM, whose balloon target and allocation were the given ones before it. */
  TargetDecision decision(int i, long fromBalloonPages, long fromAllocationPages) {
    Vm vm = vms.get(i);
    VmDemand d = demands.get(i);
    return new TargetDecision(labTimeNs, vm.id(), vm.name(), fromBalloonPages, vm.balloon.target,
        fromAllocationPages, vm.allocationTarget, pressure.state(), pressure.freeFrames(), pressure.frames(),
        pressure.targetFreeFrames(), result.bound(i, d), result.heldBack()[i], shares());
  }

  private List<TargetDecision.VmShare> shares() {
    if (shares == null) {
      List<TargetDecision.VmShare> list = new ArrayList<>(vms.size());
      for (int i = 0; i < vms.size(); i++) {
        Vm vm = vms.get(i);
        VmDemand d = demands.get(i);
        list.add(new TargetDecision.VmShare(vm.id(), vm.name(), d.shares(), d.minPages(), d.maxPages(),
            d.mappedPages(), result.allocations()[i], d.activeFraction(), result.sharesPerPage()[i], d.tau(),
            d.pinned()));
      }
      shares = List.copyOf(list);
    }
    return shares;
  }
}
