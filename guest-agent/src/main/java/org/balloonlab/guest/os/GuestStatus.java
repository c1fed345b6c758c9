package org.balloonlab.guest.os;

/** A snapshot of what the guest knows of itself, reported to the hypervisor and printed in status lines. */
public record GuestStatus(
    long simulatedNs,
    long accesses,
    long trueFaults,
    long majorFaults,
    long minorFaults,
    long pageOuts,
    long pageIns,
    long integrityViolations,
    long isolationViolations,
    long freePages,
    long totalPages,
    long swapUsedPages,
    long contextSwitches,
    String workload,
    boolean workloadDone) {}
