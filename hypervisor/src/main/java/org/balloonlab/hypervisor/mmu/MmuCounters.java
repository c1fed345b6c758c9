package org.balloonlab.hypervisor.mmu;

/**
 * Cumulative translation counters of one VM. Mutated only by its {@link Mmu} under the machine's lock; a
 * {@link #copy()} is handed out in snapshots.
 */
public final class MmuCounters {
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

  MmuCounters copy() {
    MmuCounters c = new MmuCounters();
    c.tlbHits = tlbHits;
    c.tlbMisses = tlbMisses;
    c.walkReferences = walkReferences;
    c.exitsPageTableWrite = exitsPageTableWrite;
    c.exitsContextSwitch = exitsContextSwitch;
    c.exitsGuestPageFault = exitsGuestPageFault;
    c.exitsShadowFill = exitsShadowFill;
    c.exitsP2mFault = exitsP2mFault;
    c.hiddenShadowFaults = hiddenShadowFaults;
    c.reflectedFaults = reflectedFaults;
    c.tlbFlushes = tlbFlushes;
    c.p2mInvalidations = p2mInvalidations;
    c.untrackedTranslations = untrackedTranslations;
    c.translationNs = translationNs;
    c.pageTableEvents = pageTableEvents;
    c.shadowPeakBytes = shadowPeakBytes;
    return c;
  }

  public long tlbHits() {
    return tlbHits;
  }

  public long tlbMisses() {
    return tlbMisses;
  }

  /** Memory references of page walks: TLB-miss walks and the hypervisor's walks of guest tables. */
  public long walkReferences() {
    return walkReferences;
  }

  /** Shadow mode: trapped guest page-table writes (map, unmap, remap, release of an address space). */
  public long exitsPageTableWrite() {
    return exitsPageTableWrite;
  }

  /** Shadow mode: address-space switches. */
  public long exitsContextSwitch() {
    return exitsContextSwitch;
  }

  /** Shadow mode: guest page faults intercepted before the guest sees them. */
  public long exitsGuestPageFault() {
    return exitsGuestPageFault;
  }

  /** Shadow mode: shadow misses filled from the guest's table, with no P2M fault in the same exit. */
  public long exitsShadowFill() {
    return exitsShadowFill;
  }

  /** Both modes: hidden faults of the P2M (demand-zero, host swap-in, ballooned page), each an exit. */
  public long exitsP2mFault() {
    return exitsP2mFault;
  }

  public long hiddenShadowFaults() {
    return hiddenShadowFaults;
  }

  public long reflectedFaults() {
    return reflectedFaults;
  }

  /** Context switches that flushed the TLB (untagged TLB only). */
  public long tlbFlushes() {
    return tlbFlushes;
  }

  /** P2M changes that invalidated this VM's cached translations of a PFN. */
  public long p2mInvalidations() {
    return p2mInvalidations;
  }

  /** Accesses whose translation no page-table event had announced; 0 for a guest that reports every change. */
  public long untrackedTranslations() {
    return untrackedTranslations;
  }

  /** Simulated time charged for translation (P2M faults excluded: the machine charges those). */
  public long translationNs() {
    return translationNs;
  }

  public long pageTableEvents() {
    return pageTableEvents;
  }

  public long shadowPeakBytes() {
    return shadowPeakBytes;
  }
}
