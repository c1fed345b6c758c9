package org.balloonlab.guest.grpc;

import org.balloonlab.domain.GuestStatus;
import org.balloonlab.proto.GuestReport;

/** The guest's status as the wire carries it, in a batch or a {@code QuantumDone}: one mapping for both. */
final class GuestReports {
  private GuestReports() {}

  static GuestReport toProto(GuestStatus s) {
    return GuestReport.newBuilder()
        .setSimulatedNs(s.simulatedNs())
        .setAccesses(s.accesses())
        .setTrueFaults(s.trueFaults())
        .setMajorFaults(s.majorFaults())
        .setMinorFaults(s.minorFaults())
        .setGuestPageOuts(s.pageOuts())
        .setGuestPageIns(s.pageIns())
        .setIntegrityViolations(s.integrityViolations())
        .setIsolationViolations(s.isolationViolations())
        .setFreePages(s.freePages())
        .setTotalPages(s.totalPages())
        .setSwapUsedPages(s.swapUsedPages())
        .setContextSwitches(s.contextSwitches())
        .setWorkload(s.workload())
        .setWorkloadDone(s.workloadDone())
        .build();
  }
}
