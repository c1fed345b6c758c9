package org.balloonlab.hypervisor.mmu;

/**
 * Cumulative translation counters of one VM at one instant, as its {@link Mmu} hands them out in snapshots. The
 * counters themselves run in a {@link Live} object that only the MMU mutates, under the machine's lock.
 *
 * @param walkReferences memory references of page walks: TLB-miss walks and the hypervisor's walks of guest tables
 * @param exitsPageTableWrite shadow mode: trapped guest page-table writes (map, unmap, remap, release of an address
 *     space)
 * @param exitsContextSwitch shadow mode: address-space switches
 * @param exitsGuestPageFault shadow mode: guest page faults intercepted before the guest sees them
 * @param exitsShadowFill shadow mode: shadow misses filled from the guest's table, with no P2M fault in the same
 *     exit
 * @param exitsP2mFault both modes: hidden faults of the P2M (demand-zero, host swap-in, ballooned page), each an
 *     exit
 * @param tlbFlushes context switches that flushed the TLB (untagged TLB only)
 * @param p2mInvalidations P2M changes that invalidated this VM's cached translations of a PFN
 * @param untrackedTranslations accesses whose translation no page-table event had announced; 0 for a guest that
 *     reports every change
 * @param translationNs simulated time charged for translation (P2M faults excluded: the machine charges those)
 */
public record MmuCounters(long tlbHits, long tlbMisses, long walkReferences, long exitsPageTableWrite,
                          long exitsContextSwitch, long exitsGuestPageFault, long exitsShadowFill, long exitsP2mFault,
                          long hiddenShadowFaults, long reflectedFaults, long tlbFlushes, long p2mInvalidations,
                          long untrackedTranslations, long translationNs, long pageTableEvents,
                          long shadowPeakBytes) {

  /**
   * The counters as they run: plain fields, because the MMU bumps them on every access of a batch under the
   * machine's lock. {@link #snapshot()} gives the immutable record.
   */
  static final class Live {
    long tlbHits;
    long tlbMisses;
    long walkReferences;
    long exitsPageTableWrite;
    long exitsContextSwitch;
    long exitsGuestPageFault;
    long exitsShadowFill;
    long exitsP2mFault;
    long hiddenShadowFaults;
    long reflectedFaults;
    long tlbFlushes;
    long p2mInvalidations;
    long untrackedTranslations;
    long translationNs;
    long pageTableEvents;
    long shadowPeakBytes;

    MmuCounters snapshot() {
      return new MmuCounters(tlbHits, tlbMisses, walkReferences, exitsPageTableWrite, exitsContextSwitch,
          exitsGuestPageFault, exitsShadowFill, exitsP2mFault, hiddenShadowFaults, reflectedFaults, tlbFlushes,
          p2mInvalidations, untrackedTranslations, translationNs, pageTableEvents, shadowPeakBytes);
    }
  }
}
