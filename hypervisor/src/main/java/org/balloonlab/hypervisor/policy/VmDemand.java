package org.balloonlab.hypervisor.policy;

import org.balloonlab.domain.kernel.MemoryStats;

/**
 * What a reclamation policy knows of one VM when it decides: its resource settings, what it holds now, what it
 * was allotted last time, how active it looks, and what its guest said about itself.
 *
 * @param vmId the VM
 * @param maxPages its configured size (ESX's max)
 * @param minPages memory reserved for it; its allocation never goes below
 * @param shares its shares of machine memory
 * @param mappedPages machine frames it holds now
 * @param hostSwappedPages its pages the hypervisor holds in host swap now
 * @param currentTarget the allocation target it was given last time (pages of machine memory)
 * @param activeFraction estimated fraction of its memory in active use, 0..1
 * @param pinned whether an operator pinned its balloon target, so the policy must leave its target alone
 * @param guestFreePages free memory its guest last reported, or -1 if it has not reported
 * @param guestMajorFaults major faults its guest last reported (a stats-driven policy reads these), or -1
 * @param tau the idle memory tax rate that applies to it (its own, or the machine's), or NaN for the policy's own
 * @param guestStats the memory statistics its balloon driver last reported (virtio-balloon's: swap in and out,
 *     faults, free and available memory), or {@code null} if it has not reported any
 */
public record VmDemand(int vmId, long maxPages, long minPages, long shares, long mappedPages,
                       long hostSwappedPages, long currentTarget,
                       double activeFraction, boolean pinned, long guestFreePages, long guestMajorFaults,
                       double tau, MemoryStats guestStats) {
  /** A VM whose driver has reported no statistics. */
  public VmDemand(int vmId, long maxPages, long minPages, long shares, long mappedPages, long hostSwappedPages,
                  long currentTarget, double activeFraction, boolean pinned, long guestFreePages,
                  long guestMajorFaults, double tau) {
    this(vmId, maxPages, minPages, shares, mappedPages, hostSwappedPages, currentTarget, activeFraction, pinned,
        guestFreePages, guestMajorFaults, tau, null);
  }

  /** A VM taxed at the policy's own rate. */
  public VmDemand(int vmId, long maxPages, long minPages, long shares, long mappedPages, long hostSwappedPages,
                  long currentTarget, double activeFraction, boolean pinned, long guestFreePages,
                  long guestMajorFaults) {
    this(vmId, maxPages, minPages, shares, mappedPages, hostSwappedPages, currentTarget, activeFraction, pinned,
        guestFreePages, guestMajorFaults, Double.NaN);
  }
}
