package org.balloonlab.hypervisor.machine;

/**
 * Cumulative counters the hypervisor keeps for one VM, at one instant, as snapshots hand them out. The counters
 * themselves run in a {@link Live} object owned by the {@link Vm}, mutated only under the machine's lock.
 *
 * @param balloonFaults hidden faults on a ballooned page, each of which reset the balloon
 */
public record VmCounters(long accesses, long reads, long writes, long hiddenFaults, long demandZeroFaults,
                         long hostSwapInFaults, long hostPageOuts, long hostPageIns, long doublePaging,
                         long framesZeroed, long hypervisorNs, long balloonFaults) {

  /**
   * The counters as they run: plain fields, because the data path bumps them for every batch under the machine's
   * lock. {@link #snapshot()} gives the immutable record.
   */
  static final class Live {
    long accesses;
    long reads;
    long writes;
    long hiddenFaults;
    long demandZeroFaults;
    long hostSwapInFaults;
    long hostPageOuts;
    long hostPageIns;
    long doublePaging;
    long framesZeroed;
    long hypervisorNs;
    long balloonFaults;

    VmCounters snapshot() {
      return new VmCounters(accesses, reads, writes, hiddenFaults, demandZeroFaults, hostSwapInFaults, hostPageOuts,
          hostPageIns, doublePaging, framesZeroed, hypervisorNs, balloonFaults);
    }
  }
}
