package org.balloonlab.hypervisor.mmu;

/**
 * The TLB every VM's vCPU gets: its size, associativity and whether entries carry an address-space tag.
 *
 * @param entries translations cached, a multiple of {@code ways}
 * @param ways translations per set
 * @param asidTagged whether entries carry their address space (PCID); without, a guest context switch flushes
 */
public record TlbConfig(int entries, int ways, boolean asidTagged) {
  /** A second-level TLB of a current server core: 1536 entries, 12 ways, tagged. */
  public static final TlbConfig DEFAULT = new TlbConfig(1536, 12, true);
  /** Bounds that keep a TLB a TLB: the whole array is scanned on a flush. */
  public static final int MAX_ENTRIES = 1 << 20;
  /** Most ways of a set: a set's bits fit in one long. */
  public static final int MAX_WAYS = Tlb.MAX_WAYS;

  public TlbConfig {
    if (entries <= 0 || entries > MAX_ENTRIES) {
      throw new IllegalArgumentException("TLB entries must be 1 to " + MAX_ENTRIES + ", got " + entries);
    }
    if (ways <= 0 || ways > MAX_WAYS || entries % ways != 0) {
      throw new IllegalArgumentException("TLB ways must be 1 to " + MAX_WAYS + " and divide the entries (" + entries
          + "), got " + ways);
    }
  }

  Tlb build() {
    return new Tlb(entries, ways, asidTagged);
  }
}
