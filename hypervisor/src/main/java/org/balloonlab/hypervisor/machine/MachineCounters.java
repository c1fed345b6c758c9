package org.balloonlab.hypervisor.machine;

/**
 * The machine-wide counters a {@link MachineSnapshot} reports, kept in one place: each part of the machine bumps
 * the ones it causes (the {@link HostPager} its page-outs, page-ins and double paging, the {@link Reclaimer} the
 * pages it paged to targets, the {@link FreeMemoryTracker} state changes, {@link VmLifecycle} releases), and the
 * machine reads them all for a snapshot. They outlive the VMs, whose own counters go with them.
 *
 * <p>Plain fields, mutated and read only under the machine's lock.
 */
final class MachineCounters {
  long hostPageOuts;
  long hostPageIns;
  long doublePaging;
  long policyPageOuts;
  long freeStateChanges;
  long vmsReleased;
}
