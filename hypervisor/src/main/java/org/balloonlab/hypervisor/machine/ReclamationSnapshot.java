package org.balloonlab.hypervisor.machine;

/**
 * One VM as the reclamation policy saw it: its resource settings, its allocation, its estimated activity and
 * what the hypervisor did to it beyond ballooning.
 *
 * @param minPages memory reserved for it
 * @param maxPages its configured size
 * @param shares its shares
 * @param allocationTargetPages machine memory the policy allots it
 * @param activeFraction estimated active fraction (max of the slow, fast and current-period estimates), 1 before
 *     any sample
 * @param activeFast the fast moving average
 * @param activeSlow the slow moving average
 * @param samplePeriods sampling periods closed so far
 * @param sharesPerPage its shares per page with the idle memory tax, at the last decision
 * @param targetPinned whether an operator pinned its balloon target
 * @param policyPageOuts pages the hypervisor paged out to bring it down to its target
 * @param blockedBatches batches held in the low state while it was above its target
 * @param blockedNs simulated time it spent held
 * @param tau the idle memory tax rate that applies to it
 * @param ownTau whether that rate is its own (set for this VM) rather than the machine's
 * @param hostDiskWaitNs simulated time its batches waited for the host swap disk to write or read its pages for
 *     the policy (page-outs to reach its target, reserved pages read back)
 */
public record ReclamationSnapshot(long minPages, long maxPages, long shares, long allocationTargetPages,
                                  double activeFraction, double activeFast, double activeSlow, long samplePeriods,
                                  double sharesPerPage, boolean targetPinned, long policyPageOuts,
                                  long blockedBatches, long blockedNs, double tau, boolean ownTau,
                                  long hostDiskWaitNs) {}
