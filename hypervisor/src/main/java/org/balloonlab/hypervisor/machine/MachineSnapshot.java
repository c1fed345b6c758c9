package org.balloonlab.hypervisor.machine;

import java.util.List;

/**
 * The machine and every powered-on VM, taken under one lock so that its numbers agree with each other:
 * {@code freeFrames + mappedFrames - sharing.savedFrames() == machineFrames} and {@code mappedFrames} is the sum of
 * the VMs' mapped pages (a shared frame counts once per VM page that maps it, and once as a frame).
 *
 * @param hostSwapReservedPages host swap reserved for the VMs ({@code memory - min} each), at most {@code hostSwapSlots}
 * @param quotas the limits admission control and the data path enforce
 * @param sharing page sharing across the machine: shared frames, saved frames, hints, the table's bytes
 */
public record MachineSnapshot(
    long machineFrames,
    long freeFrames,
    long mappedFrames,
    long hostSwapSlots,
    long hostSwapUsed,
    long configuredPages,
    long hostPageOuts,
    long hostPageIns,
    long doublePaging,
    long vmsReleased,
    String freeState,
    String policy,
    long freeStateChanges,
    long targetFreeFrames,
    double tau,
    long policyPageOuts,
    long reservedPages,
    List<VmSnapshot> vms,
    long hostSwapReservedPages,
    Quotas quotas,
    SharingSnapshot sharing) {}
