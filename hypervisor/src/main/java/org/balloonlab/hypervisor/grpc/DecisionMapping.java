package org.balloonlab.hypervisor.grpc;

import java.util.List;
import org.balloonlab.domain.kernel.MemoryStats;
import org.balloonlab.hypervisor.machine.GuestStats;
import org.balloonlab.hypervisor.policy.TargetDecision;
import org.balloonlab.proto.BalloonStats;
import org.balloonlab.proto.GetDecisionsResponse;
import org.balloonlab.proto.GuestStatsState;
import org.balloonlab.proto.VmShare;

/** Translates the policy's decision records and the guests' kept statistics to the wire. */
final class DecisionMapping {
  private DecisionMapping() {}

  /** The newest {@code max} decisions (all for 0), oldest first. */
  static GetDecisionsResponse toProto(List<TargetDecision> decisions, int max) {
    int from = max == 0 ? 0 : Math.max(0, decisions.size() - max);
    GetDecisionsResponse.Builder b = GetDecisionsResponse.newBuilder();
    for (TargetDecision d : decisions.subList(from, decisions.size())) {
      b.addDecisions(toProto(d));
    }
    return b.build();
  }

  static org.balloonlab.proto.TargetDecision toProto(TargetDecision d) {
    org.balloonlab.proto.TargetDecision.Builder b = org.balloonlab.proto.TargetDecision.newBuilder()
        .setLabTimeNs(d.labTimeNs())
        .setVmId(d.vmId())
        .setVmName(d.vmName())
        .setFromBalloonPages(d.fromBalloonPages())
        .setToBalloonPages(d.toBalloonPages())
        .setFromAllocationPages(d.fromAllocationPages())
        .setToAllocationPages(d.toAllocationPages())
        .setFreeState(d.state().label())
        .setFreeFrames(d.freeFrames())
        .setMachineFrames(d.machineFrames())
        .setTargetFreeFrames(d.targetFreeFrames())
        .setBound(d.bound().label())
        .setHeldBack(d.heldBack());
    for (TargetDecision.VmShare s : d.vms()) {
      b.addVms(VmShare.newBuilder()
          .setVmId(s.vmId())
          .setVmName(s.vmName())
          .setShares(s.shares())
          .setMinPages(s.minPages())
          .setMaxPages(s.maxPages())
          .setMappedPages(s.mappedPages())
          .setAllocationPages(s.allocationPages())
          .setActiveFraction(s.activeFraction())
          .setSharesPerPage(s.sharesPerPage())
          .setTau(s.tau())
          .setPinned(s.pinned()));
    }
    return b.build();
  }

  static GuestStatsState toProto(GuestStats g) {
    MemoryStats s = g.stats();
    return GuestStatsState.newBuilder()
        .setStats(BalloonStats.newBuilder()
            .setSwapIn(s.swapIn())
            .setSwapOut(s.swapOut())
            .setMajorFaults(s.majorFaults())
            .setMinorFaults(s.minorFaults())
            .setFreePages(s.freePages())
            .setTotalPages(s.totalPages())
            .setAvailablePages(s.availablePages()))
        .setLabTimeNs(g.labTimeNs())
        .setReports(g.reports())
        .build();
  }
}
