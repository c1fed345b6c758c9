package org.balloonlab.hypervisor.machine;

import org.balloonlab.domain.GuestStatus;

/**
 * One VM as the hypervisor saw it at one instant.
 *
 * @param guest the guest's latest report, or {@code null} before its first
 * @param mmu its address translation: mode, TLB, exits, shadow tables
 * @param hostSwapReservedPages host swap reserved for it at power-on ({@code memory - min}); it never holds more
 * @param sharing its page sharing: shared pages, saved frames, hints, copy-on-write breaks, pages scanned
 * @param guestStats the memory statistics its balloon driver last reported, or {@code null} before the first
 */
public record VmSnapshot(
    int id,
    String name,
    String osKind,
    long memoryPages,
    boolean attached,
    long mappedPages,
    long hostSwappedPages,
    VmCounters counters,
    GuestStatus guest,
    BalloonSnapshot balloon,
    ReclamationSnapshot reclamation,
    org.balloonlab.hypervisor.mmu.MmuSnapshot mmu,
    long hostSwapReservedPages,
    VmSharing sharing,
    GuestStats guestStats) {}
