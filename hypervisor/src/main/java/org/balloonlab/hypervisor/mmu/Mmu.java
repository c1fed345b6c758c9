package org.balloonlab.hypervisor.mmu;

import org.balloonlab.hypervisor.time.CostModel;

/**
 * The address translation of one VM as the hypervisor models it: the VM's TLB, a copy of its guest page tables
 * built from the guest's page-table events, and in shadow mode its shadow tables. It decides what translation
 * costs; it never decides what an access reads or writes, which the guest resolves through its own page table
 * in both modes (the access carries the PFN it found).
 *
 * <p><b>What the guest tells.</b> Every access carries its address space (asid) and VPN besides its PFN; kernel
 * accesses use the global address space {@link Tlb#GLOBAL_ASID}, the guest kernel's direct map, where VPN =
 * PFN. Page-table events travel in the same ordered stream: a map, unmap or remap of a VPN, an address-space
 * switch (a CR3 write), a guest page fault, the release of an address space when its process exits.
 *
 * <p><b>Nested (EPT/NPT).</b> Page-table writes, switches and guest faults cost nothing here: the guest handles
 * them without exits. A TLB miss walks both dimensions in hardware: each of the 4 guest levels, and the final
 * guest-physical address, is translated through the 4 host levels, (4 + 1) x (4 + 1) - 1 = 24 references.
 *
 * <p><b>Shadow.</b> The guest's tables are write-protected, so each page-table event exits to the hypervisor
 * (reason page-table write), and so does every address-space switch (context switch). The hypervisor emulates a
 * map at once: if the PFN has a machine frame, the shadow entry VPN to MFN is written then. A TLB miss walks the
 * shadow table, 4 references. A shadow miss (an entry dropped because the P2M changed, a page mapped before it
 * had a frame, a first kernel touch) exits; the hypervisor walks the guest's table (4 more references) and, as
 * it can satisfy the miss, fills the entry without the guest knowing: a <em>hidden shadow fault</em>. Every
 * guest page fault exits first (reason guest page fault); the guest's table cannot satisfy it, so it is
 * <em>reflected</em> to the guest, which handles it as a true fault. Shadow tables are hypervisor memory,
 * counted in 4 KiB pages of 4-level radix tables ({@link RadixTable}): one per address space and one for the
 * kernel's direct map.
 *
 * <p><b>Keeping caches right.</b> A guest unmap or remap invalidates that VPN's TLB entry and shadow entry; a
 * released address space loses all of them; a context switch flushes the VM's non-global TLB entries when the
 * TLB has no address-space tags. When the P2M of a PFN changes (demand-zero fault, host page-out or swap-in,
 * balloon lock, unlock or reset), {@link #p2mChanged} drops the translations that may hold its old MFN: the
 * kernel's (VPN = PFN) and the one user mapping the reverse map names. The reverse map holds one user mapping per
 * PFN; a second alias of the same PFN takes its place and the first loses its cached translations, which costs
 * it a refill, never a stale MFN. A TLB hit is taken as hardware takes it, without a look at the tables; on a
 * miss the access's PFN is checked against the guest table the events built, and a translation no event
 * announced is adopted as if its write had trapped (and counted: a guest that tells every change has none).
 *
 * <p><b>Trade-offs.</b> Exits are charged {@link CostModel#vmExitNs()} each, hidden shadow faults the
 * hidden-fault cost, TLB hits and walk references their constants; p2m faults are charged by the machine as
 * before and only counted here. The TLB models one level (the second-level TLB), and walks do not model
 * paging-structure caches, so a miss costs the full walk: the 24 : 4 contrast is the upper bound the literature
 * quotes. Per-VPN state lives in radix tables of {@code int} and per-PFN state in one {@code long} array,
 * allocated when the VM first names an address space. The radix tables' pages are charged to the VM against a
 * budget ({@link #admits}, {@link TablePagesBound}): the VM chooses the VPNs and address spaces, so without it a
 * guest could make the hypervisor allocate without bound. Not thread-safe: the machine's lock serializes access.
 */
public final class Mmu {
  /** Page-table event codes; the numbers are those of the wire's {@code AccessOp}. */
  public static final byte PT_MAP = 4;
  public static final byte PT_UNMAP = 5;
  public static final byte PT_REMAP = 6;
  public static final byte AS_SWITCH = 7;
  public static final byte GUEST_PAGE_FAULT = 8;
  public static final byte AS_RELEASE = 9;
  /** Address spaces a VM may name: 0 to this, a 12-bit tag as PCIDs have. */
  public static final int MAX_ASID = 4095;
  /** Guest levels and host levels of the page tables walked. */
  public static final int LEVELS = 4;
  /** References of a two-dimensional walk: (4 + 1) x (4 + 1) - 1. */
  public static final int NESTED_WALK_REFERENCES = (LEVELS + 1) * (LEVELS + 1) - 1;
  public static final int SHADOW_WALK_REFERENCES = LEVELS;
  public static final long TABLE_PAGE_BYTES = 4096;
  private static final int NONE = -1;

  private final TranslationMode mode;
  private final boolean shadowMode;
  private final Tlb tlb;
  private final int vmTag;
  private final int pfns;
  private final long tlbHitNs;
  private final long walkReferenceNs;
  private final long vmExitNs;
  private final long hiddenFaultNs;

  /** Per address space: the guest table copy, and the shadow table in shadow mode. */
  private final RadixTable[] guestTables = new RadixTable[MAX_ASID + 1];
  private final RadixTable[] shadowTables;
  private final RadixTable kernelShadow;
  /**
   * The user mapping whose cached translations may hold a PFN's MFN, as {@code asid << 32 | vpn}, or NONE: one
   * {@code long} per PFN, so a claim touches one cache line.
   */
  private long[] rmap;
  /** PFNs mapped by more than one user VPN at some time: only their fills must claim the reverse map. */
  private java.util.BitSet aliased;
  private long shadowPages;
  private long shadowEntries;
  /** Table pages of the guest-table copies, charged with the user shadow tables against {@link #budgetPages}. */
  private long guestPages;
  private final long budgetPages;

  private final MmuCounters.Live counters = new MmuCounters.Live();

  /**
   * @param mode how this VM is translated
   * @param tlbConfig the TLB of the VM's vCPU
   * @param vmId the VM's id, folded into the TLB's VM tag
   * @param pfns the VM's guest-physical pages
   * @param costs the machine's cost model
   */
  public Mmu(TranslationMode mode, TlbConfig tlbConfig, int vmId, int pfns, CostModel costs) {
    this(mode, tlbConfig.build(), vmId, pfns, costs, Long.MAX_VALUE);
  }

  /**
   * An MMU whose translation tables may take at most {@code budgetPages} table pages ({@link #admits}).
   *
   * @param budgetPages table pages of guest-table copies and user shadow tables this VM may hold
   */
  public Mmu(TranslationMode mode, TlbConfig tlbConfig, int vmId, int pfns, CostModel costs, long budgetPages) {
    this(mode, tlbConfig.build(), vmId, pfns, costs, budgetPages);
  }

  /** An MMU on a TLB that may be shared with other VMs (their entries carry other VM tags). */
  public Mmu(TranslationMode mode, Tlb tlb, int vmId, int pfns, CostModel costs) {
    this(mode, tlb, vmId, pfns, costs, Long.MAX_VALUE);
  }

  private Mmu(TranslationMode mode, Tlb tlb, int vmId, int pfns, CostModel costs, long budgetPages) {
    this.budgetPages = budgetPages;
    this.mode = mode;
    this.shadowMode = mode == TranslationMode.SHADOW;
    this.tlb = tlb;
    this.vmTag = Tlb.vmTag(vmId);
    this.pfns = pfns;
    this.tlbHitNs = costs.tlbHitNs();
    this.walkReferenceNs = costs.pageWalkReferenceNs();
    this.vmExitNs = costs.vmExitNs();
    this.hiddenFaultNs = costs.hiddenFaultNs();
    this.shadowTables = shadowMode ? new RadixTable[MAX_ASID + 1] : null;
    this.kernelShadow = shadowMode ? new RadixTable() : null;
    if (shadowMode) {
      shadowPages = kernelShadow.tablePages();
    }
  }

  public TranslationMode mode() {
    return mode;
  }

  public Tlb tlb() {
    return tlb;
  }

  // ---------------------------------------------------------------- accesses

  /**
   * Translates one access whose P2M entry is resolved: looks the TLB up and, on a miss, walks and fills.
   *
   * @param asid the address space, or {@link Tlb#GLOBAL_ASID} for a kernel access (then {@code vpn == pfn})
   * @param mfn the frame now backing {@code pfn}
   * @param p2mFaulted whether the machine had to resolve a hidden P2M fault for this access (counted as that
   *     exit; the same exit fills the shadow entry)
   * @return simulated nanoseconds to charge
   */
  public long access(int asid, int vpn, int pfn, int mfn, boolean p2mFaulted) {
    MmuCounters.Live c = counters;
    if (p2mFaulted) {
      c.exitsP2mFault++;
    }
    if (tlb.lookup(vmTag, asid, vpn) >= 0) {
      // As in hardware, a hit does not consult the page tables; every change to them invalidated the entry.
      c.tlbHits++;
      c.translationNs += tlbHitNs;
      return tlbHitNs;
    }
    c.tlbMisses++;
    boolean kernel = asid == Tlb.GLOBAL_ASID;
    if (!kernel) {
      RadixTable guest = guestTables[asid];
      if (guest == null || guest.get(vpn) != pfn) {
        adopt(asid, vpn, pfn);
      }
    }
    long ns;
    if (!shadowMode) {
      c.walkReferences += NESTED_WALK_REFERENCES;
      ns = NESTED_WALK_REFERENCES * walkReferenceNs;
    } else {
      c.walkReferences += SHADOW_WALK_REFERENCES;
      ns = SHADOW_WALK_REFERENCES * walkReferenceNs;
      RadixTable shadow = kernel ? kernelShadow : shadowTable(asid);
      if (shadow.get(vpn) < 0) {
        // A shadow miss the guest's table satisfies: the hypervisor walks it and fills the entry.
        c.hiddenShadowFaults++;
        c.walkReferences += LEVELS;
        ns += LEVELS * walkReferenceNs;
        if (!p2mFaulted) {
          c.exitsShadowFill++;
          ns += hiddenFaultNs;
        }
        shadowPut(shadow, vpn, mfn);
      }
    }
    if (!kernel && aliased != null && aliased.get(pfn)) {
      claim(asid, vpn, pfn);
    }
    tlb.fill(vmTag, asid, vpn, mfn);
    c.translationNs += ns;
    return ns;
  }

  /** The guest used a translation it never announced: take it as its table's entry, as if a map had trapped. */
  private void adopt(int asid, int vpn, int pfn) {
    counters.untrackedTranslations++;
    putGuestEntry(asid, vpn, pfn);
  }

  /** Sets the guest table's entry; if a present entry changed, the hardware and the shadow may hold its frame. */
  private void putGuestEntry(int asid, int vpn, int pfn) {
    RadixTable table = guestTable(asid);
    long before = table.tablePages();
    int old = table.put(vpn, pfn);
    guestPages += table.tablePages() - before;
    if (old >= 0) {
      dropCached(asid, vpn);
      releaseRmap(old, asid, vpn);
    }
    map(asid, vpn, pfn);
  }

  /**
   * Records (asid, vpn) as the user mapping of {@code pfn}. If another VPN still maps it, the PFN is aliased:
   * from now on whichever alias fills a translation claims it, so {@link #p2mChanged} always finds the one
   * holding cached translations. Unaliased PFNs (all of them, for a guest that maps each page once) need no claim
   * on the data path.
   */
  private void map(int asid, int vpn, int pfn) {
    if (rmap == null) {
      rmap = new long[pfns];
      java.util.Arrays.fill(rmap, NONE);
    }
    long old = rmap[pfn];
    if (old != NONE && old != rmapKey(asid, vpn)) {
      int a = (int) (old >>> 32);
      int v = (int) old;
      if (guestTables[a] != null && guestTables[a].get(v) == pfn) {
        if (aliased == null) {
          aliased = new java.util.BitSet(pfns);
        }
        aliased.set(pfn);
      }
    }
    claim(asid, vpn, pfn);
  }

  // ---------------------------------------------------------------- page-table events

  /**
   * Applies one page-table event.
   *
   * @param op one of {@link #PT_MAP}, {@link #PT_UNMAP}, {@link #PT_REMAP}, {@link #AS_SWITCH},
   *     {@link #GUEST_PAGE_FAULT}, {@link #AS_RELEASE}
   * @param pfnEntry for a map or remap, the P2M entry of {@code pfn} now (an MFN if backed, negative if not)
   * @return simulated nanoseconds to charge
   */
  public long event(byte op, int asid, int vpn, int pfn, int pfnEntry) {
    MmuCounters.Live c = counters;
    c.pageTableEvents++;
    long ns = 0;
    switch (op) {
      case PT_MAP, PT_REMAP -> {
        putGuestEntry(asid, vpn, pfn);
        if (shadowMode) {
          ns = pageTableWriteExit();
          if (pfnEntry >= 0) {
            // The hypervisor emulating the write knows the frame, so the shadow entry is written now.
            shadowPut(shadowTable(asid), vpn, pfnEntry);
          }
        }
      }
      case PT_UNMAP -> {
        RadixTable guest = guestTables[asid];
        int old = guest == null ? NONE : guest.remove(vpn);
        dropCached(asid, vpn);
        if (old >= 0) {
          releaseRmap(old, asid, vpn);
        }
        if (shadowMode) {
          ns = pageTableWriteExit();
        }
      }
      case AS_SWITCH -> {
        if (!tlb.asidTagged()) {
          tlb.contextSwitch(vmTag);
          c.tlbFlushes++;
        }
        if (shadowMode) {
          shadowTable(asid); // the hypervisor loads (and if need be builds) this space's shadow root
          c.exitsContextSwitch++;
          ns = vmExitNs;
        }
      }
      case GUEST_PAGE_FAULT -> {
        if (shadowMode) {
          // Intercepted, walked in the guest's table, which has no entry: reflected to the guest.
          c.exitsGuestPageFault++;
          c.walkReferences += LEVELS;
          c.reflectedFaults++;
          ns = vmExitNs + LEVELS * walkReferenceNs;
        }
      }
      case AS_RELEASE -> {
        release(asid);
        if (shadowMode) {
          ns = pageTableWriteExit();
        }
      }
      default -> throw new IllegalArgumentException("not a page-table event: " + op);
    }
    c.translationNs += ns;
    return ns;
  }

  private long pageTableWriteExit() {
    counters.exitsPageTableWrite++;
    return vmExitNs;
  }

  private void release(int asid) {
    RadixTable guest = guestTables[asid];
    if (guest != null) {
      guest.forEach((vpn, pfn) -> releaseRmap(pfn, asid, vpn));
      guestPages -= guest.tablePages();
      guestTables[asid] = null;
    }
    if (shadowMode && shadowTables[asid] != null) {
      RadixTable shadow = shadowTables[asid];
      shadowPages -= shadow.tablePages();
      shadowEntries -= shadow.entries();
      shadowTables[asid] = null;
    }
    tlb.invalidateAddressSpace(vmTag, asid);
  }

  // ---------------------------------------------------------------- P2M changes

  /**
   * The P2M entry of {@code pfn} changed: drops every cached translation that may hold its old frame, the
   * kernel's and the user mapping's, from the TLB and the shadow tables.
   */
  public void p2mChanged(int pfn) {
    counters.p2mInvalidations++;
    tlb.invalidate(vmTag, Tlb.GLOBAL_ASID, pfn);
    if (shadowMode) {
      shadowRemove(kernelShadow, pfn);
    }
    if (rmap != null && rmap[pfn] != NONE) {
      dropCached((int) (rmap[pfn] >>> 32), (int) rmap[pfn]);
    }
  }

  /** Drops the TLB entry and the shadow entry of one user VPN. */
  private void dropCached(int asid, int vpn) {
    tlb.invalidate(vmTag, asid, vpn);
    if (shadowMode && shadowTables[asid] != null) {
      shadowRemove(shadowTables[asid], vpn);
    }
  }

  /** Makes (asid, vpn) the user mapping of {@code pfn}, dropping what another alias cached. */
  private void claim(int asid, int vpn, int pfn) {
    if (rmap == null) {
      rmap = new long[pfns];
      java.util.Arrays.fill(rmap, NONE);
    }
    long owner = rmapKey(asid, vpn);
    long old = rmap[pfn];
    if (old == owner) {
      return;
    }
    if (old != NONE) {
      dropCached((int) (old >>> 32), (int) old);
    }
    rmap[pfn] = owner;
  }

  private static long rmapKey(int asid, int vpn) {
    return ((long) asid << 32) | (vpn & 0xFFFFFFFFL);
  }

  private void releaseRmap(int pfn, int asid, int vpn) {
    if (rmap != null && rmap[pfn] == rmapKey(asid, vpn)) {
      rmap[pfn] = NONE;
    }
  }

  // ---------------------------------------------------------------- tables

  private RadixTable guestTable(int asid) {
    RadixTable t = guestTables[asid];
    if (t == null) {
      t = new RadixTable();
      guestTables[asid] = t;
      guestPages += t.tablePages();
    }
    return t;
  }

  private RadixTable shadowTable(int asid) {
    RadixTable t = shadowTables[asid];
    if (t == null) {
      t = new RadixTable();
      shadowTables[asid] = t;
      shadowPages += t.tablePages();
    }
    return t;
  }

  private void shadowPut(RadixTable shadow, int vpn, int mfn) {
    long before = shadow.tablePages();
    if (shadow.put(vpn, mfn) < 0) {
      shadowEntries++;
    }
    shadowPages += shadow.tablePages() - before;
    long bytes = shadowPages * TABLE_PAGE_BYTES;
    if (bytes > counters.shadowPeakBytes) {
      counters.shadowPeakBytes = bytes;
    }
  }

  private void shadowRemove(RadixTable shadow, int vpn) {
    if (shadow.remove(vpn) >= 0) {
      shadowEntries--;
    }
  }

  /** The shadow entry (an MFN) of a VPN of an address space, or -1; the kernel's with {@link Tlb#GLOBAL_ASID}. */
  public int shadowEntry(int asid, int vpn) {
    if (!shadowMode) {
      return -1;
    }
    RadixTable t = asid == Tlb.GLOBAL_ASID ? kernelShadow : shadowTables[asid];
    return t == null ? -1 : t.get(vpn);
  }

  /** The PFN the guest's table maps a VPN to, as the hypervisor learned it, or -1. */
  public int guestEntry(int asid, int vpn) {
    RadixTable t = guestTables[asid];
    return t == null ? -1 : t.get(vpn);
  }

  // ---------------------------------------------------------------- the translation-table budget

  /**
   * Table pages charged to this VM now: its guest-table copies and its user shadow tables (the kernel's shadow of
   * the direct map is bounded by the VM's size and not charged).
   */
  public long chargedTablePages() {
    // The kernel shadow maps VPN = PFN only, so it is bounded by the VM's size, as its P2M is: not charged.
    return guestPages + shadowPages - (shadowMode ? kernelShadow.tablePages() : 0);
  }

  /** Most table pages this VM may be charged. */
  public long budgetPages() {
    return budgetPages;
  }

  /**
   * Whether a batch can be applied without this VM's translation tables growing past its budget, counted before
   * anything is applied so a refused batch changes nothing. The count is an upper bound: every entry that may
   * allocate (a map or remap, an access that may be adopted or fill a shadow entry, a switch that may build a
   * shadow root) is assumed to, and address spaces the batch releases give nothing back until it is applied. In
   * shadow mode a map or remap writes a shadow entry only for a backed PFN, so in a batch without accesses (which
   * alone back PFNs) an unbacked PFN's map is not counted against the shadow.
   * Cheap when the VM is far from its budget or the batch touches only table pages that exist; when the plain sum
   * of missing pages would cross the budget, the pages are told apart (several entries under one new leaf need it
   * once) by sorting their keys in a {@code long[]}.
   *
   * @param asids with {@code vpns}, each entry's address space and VPN; {@code null}: kernel accesses only
   * @param backed whether a PFN has a machine frame before the batch
   */
  public boolean admits(int count, byte[] ops, int[] pfns, char[] asids, int[] vpns,
                        java.util.function.IntPredicate backed) {
    return chargedTablePages() + tablePagesNeeded(count, ops, pfns, asids, vpns, backed) <= budgetPages;
  }

  /**
   * The table pages a batch may add at most (see {@link #admits}), or 0 when even the worst case (four pages a
   * table an entry) fits the room left.
   */
  public long tablePagesNeeded(int count, byte[] ops, int[] pfns, char[] asids, int[] vpns,
                               java.util.function.IntPredicate backed) {
    if (asids == null) {
      return 0;
    }
    long room = budgetPages - chargedTablePages();
    if ((long) count * (shadowMode ? 2 : 1) * LEVELS <= room) {
      return 0;
    }
    return new TablePagesBound(guestTables, shadowMode ? shadowTables : null)
        .pagesNeeded(count, ops, pfns, asids, vpns, backed, room);
  }

  /** Hypervisor memory the shadow tables take now. */
  public long shadowTableBytes() {
    return shadowPages * TABLE_PAGE_BYTES;
  }

  /**
   * Checks every shadow entry against the P2M, a full scan for tests: a shadow entry must hold the frame that
   * backs its page now.
   *
   * @param p2m answers the P2M entry of a PFN
   * @throws IllegalStateException naming the first stale entry
   */
  public void checkShadowConsistency(java.util.function.IntUnaryOperator p2m) {
    if (!shadowMode) {
      return;
    }
    kernelShadow.forEach((vpn, mfn) -> {
      if (p2m.applyAsInt(vpn) != mfn) {
        throw new IllegalStateException("kernel shadow entry of PFN " + vpn + " holds MFN " + mfn
            + " but the P2M holds " + p2m.applyAsInt(vpn));
      }
    });
    for (int asid = 0; asid <= MAX_ASID; asid++) {
      RadixTable shadow = shadowTables[asid];
      if (shadow == null) {
        continue;
      }
      int a = asid;
      shadow.forEach((vpn, mfn) -> {
        int pfn = guestEntry(a, vpn);
        if (pfn < 0 || p2m.applyAsInt(pfn) != mfn) {
          throw new IllegalStateException("shadow entry of asid " + a + " VPN " + vpn + " holds MFN " + mfn
              + " but the guest maps it to PFN " + pfn + (pfn < 0 ? "" : " backed by " + p2m.applyAsInt(pfn)));
        }
      });
    }
  }

  /** The counters and gauges now. */
  public MmuSnapshot snapshot() {
    return new MmuSnapshot(mode, counters.snapshot(), shadowTableBytes(), shadowEntries, tlb.invalidations(),
        chargedTablePages(), budgetPages);
  }
}
