package org.balloonlab.lab.report;

/**
 * One VM as the launcher saw it at one lab time of a run: a row of the time series. Counters are cumulative; the
 * plots turn them into rates. Sizes are in 4 KiB pages.
 *
 * @param labSeconds the lab time of the sample: simulated seconds since the lab started (the launcher holds the
 *     clock there while it reads the lab)
 * @param vm the VM's name
 * @param configuredPages its configured memory
 * @param mappedPages guest-physical pages backed by a machine frame
 * @param balloonPages pages its balloon holds
 * @param balloonTargetPages its balloon target
 * @param hostSwappedPages pages the hypervisor has paged out to its swap file
 * @param guestFaults true faults, handled by the guest OS
 * @param hiddenFaults faults the hypervisor resolved without the guest knowing
 * @param hostPageOuts pages the hypervisor paged out of this VM
 * @param hostPageIns pages the hypervisor paged back in for this VM
 * @param doublePaging host page-ins caused by the guest paging out a page the hypervisor had paged out
 * @param simulatedSeconds the VM's simulated time
 * @param freeFrames the machine's free frames
 * @param freeState the machine's free-memory state ({@code high}, {@code soft}, {@code hard}, {@code low}), or
 *     {@code -} where the hypervisor does not report one
 * @param accesses the accesses its guest's workloads have made, as its last report to the hypervisor said (the
 *     throughput of an experiment is read from it)
 */
public record VmSample(double labSeconds, String vm, long configuredPages, long mappedPages, long balloonPages,
                       long balloonTargetPages, long hostSwappedPages, long guestFaults, long hiddenFaults,
                       long hostPageOuts, long hostPageIns, long doublePaging, double simulatedSeconds,
                       long freeFrames, String freeState, long accesses, long sharedPages) {

  /** A sample of a VM none of whose pages are shared (page sharing off). */
  public VmSample(double labSeconds, String vm, long configuredPages, long mappedPages, long balloonPages,
                  long balloonTargetPages, long hostSwappedPages, long guestFaults, long hiddenFaults,
                  long hostPageOuts, long hostPageIns, long doublePaging, double simulatedSeconds,
                  long freeFrames, String freeState, long accesses) {
    this(labSeconds, vm, configuredPages, mappedPages, balloonPages, balloonTargetPages, hostSwappedPages,
        guestFaults, hiddenFaults, hostPageOuts, hostPageIns, doublePaging, simulatedSeconds, freeFrames, freeState,
        accesses, 0);
  }
}
