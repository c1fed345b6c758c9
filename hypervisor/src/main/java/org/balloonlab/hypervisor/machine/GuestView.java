package org.balloonlab.hypervisor.machine;

/**
 * What a guest last told the hypervisor about itself: the figures only the guest OS can see (its own faults,
 * its swap, its free memory) and the verdict of its integrity checks.
 */
public record GuestView(
    long simulatedNs,
    long accesses,
    long trueFaults,
    long majorFaults,
    long minorFaults,
    long guestPageOuts,
    long guestPageIns,
    long integrityViolations,
    long isolationViolations,
    long freePages,
    long totalPages,
    long swapUsedPages,
    long contextSwitches,
    String workload,
    boolean workloadDone) {}
