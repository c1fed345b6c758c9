package org.balloonlab.domain;

/**
 * What a guest knows of itself and the hypervisor cannot see (its own faults, its swap, its free memory, the
 * verdict of its integrity checks): the guest reports it, the hypervisor keeps the latest for its views and its
 * policy, and status lines print it. One record for both sides, so the two never disagree on what is reported.
 */
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
