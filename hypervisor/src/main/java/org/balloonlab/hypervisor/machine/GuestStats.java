package org.balloonlab.hypervisor.machine;

import org.balloonlab.domain.kernel.MemoryStats;

/**
 * The memory statistics a VM's balloon driver last reported (ReportStats, virtio-balloon's statistics queue), and
 * when: the hypervisor keeps only the latest per VM, for its views, its metrics and its policy.
 *
 * @param stats what the guest reported: swap in and out, major and minor faults, free, total and available pages
 * @param labTimeNs the lab time it arrived, simulated nanoseconds
 * @param reports how many reports the VM's driver has made
 */
public record GuestStats(MemoryStats stats, long labTimeNs, long reports) {}
