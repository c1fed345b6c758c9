package org.balloonlab.hypervisor.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.balloonlab.hypervisor.time.CostModel;
import org.junit.jupiter.api.Test;

/** The translation model of one VM on its own: costs, exits, shadow tables and invalidation. */
class MmuTest {
  static final long HIT = 1;
  static final long REF = 10;
  static final long EXIT = 1_000;
  static final long HIDDEN = 2_000;
  static final CostModel COSTS = new CostModel(50, 1_000, HIDDEN, 500, 1, 1, 1, 1, HIT, REF, EXIT);
  static final int PFNS = 4096;
  static final int K = Tlb.GLOBAL_ASID;

  /** A stand-in P2M: PFN p is backed by MFN p + 1000 unless unbacked. */
  private final int[] p2m = new int[PFNS];

  MmuTest() {
    for (int pfn = 0; pfn < PFNS; pfn++) {
      p2m[pfn] = pfn + 1000;
    }
  }

  private Mmu mmu(TranslationMode mode) {
    return new Mmu(mode, new TlbConfig(64, 4, true), 1, PFNS, COSTS);
  }

  private long access(Mmu mmu, int asid, int vpn, int pfn) {
    return mmu.access(asid, vpn, pfn, p2m[pfn], false);
  }

  /** Every VM exit, whatever its reason. */
  private static long exits(MmuCounters c) {
    return c.exitsPageTableWrite() + c.exitsContextSwitch() + c.exitsGuestPageFault() + c.exitsShadowFill()
        + c.exitsP2mFault();
  }

  private long map(Mmu mmu, int asid, int vpn, int pfn) {
    return mmu.event(Mmu.PT_MAP, asid, vpn, pfn, p2m[pfn]);
  }

  @Test
  void nestedMissesWalkTwentyFourReferencesAndHitsAreCheap() {
    Mmu mmu = mmu(TranslationMode.NESTED);
    assertEquals(0, map(mmu, 0, 5, 7), "a page-table write costs a nested guest nothing");
    assertEquals(24 * REF, access(mmu, 0, 5, 7));
    assertEquals(HIT, access(mmu, 0, 5, 7));
    MmuCounters c = mmu.snapshot().counters();
    assertEquals(1, c.tlbHits());
    assertEquals(1, c.tlbMisses());
    assertEquals(24, c.walkReferences());
    assertEquals(0, exits(c));
    assertEquals(24 * REF + HIT, c.translationNs());
    assertEquals(0, mmu.snapshot().shadowTableBytes());
  }

  @Test
  void nestedPageTableEventsSwitchesAndFaultsCostNoExits() {
    Mmu mmu = mmu(TranslationMode.NESTED);
    long ns = mmu.event(Mmu.AS_SWITCH, 1, 0, 0, -1) + mmu.event(Mmu.GUEST_PAGE_FAULT, 1, 9, 0, -1)
        + map(mmu, 1, 9, 9) + mmu.event(Mmu.PT_UNMAP, 1, 9, 0, -1) + mmu.event(Mmu.AS_RELEASE, 1, 0, 0, -1);
    assertEquals(0, ns);
    assertEquals(0, exits(mmu.snapshot().counters()));
    assertEquals(5, mmu.snapshot().counters().pageTableEvents());
  }

  @Test
  void shadowPageTableWritesSwitchesAndFaultsExit() {
    Mmu mmu = mmu(TranslationMode.SHADOW);
    assertEquals(EXIT, mmu.event(Mmu.AS_SWITCH, 1, 0, 0, -1));
    assertEquals(EXIT + 4 * REF, mmu.event(Mmu.GUEST_PAGE_FAULT, 1, 9, 0, -1));
    assertEquals(EXIT, map(mmu, 1, 9, 9));
    assertEquals(EXIT, mmu.event(Mmu.PT_REMAP, 1, 9, 10, p2m[10]));
    assertEquals(EXIT, mmu.event(Mmu.PT_UNMAP, 1, 9, 0, -1));
    assertEquals(EXIT, mmu.event(Mmu.AS_RELEASE, 1, 0, 0, -1));
    MmuCounters c = mmu.snapshot().counters();
    assertEquals(1, c.exitsContextSwitch());
    assertEquals(1, c.exitsGuestPageFault());
    assertEquals(1, c.reflectedFaults(), "the guest's table had no entry: reflected");
    assertEquals(4, c.exitsPageTableWrite());
  }

  @Test
  void shadowMissesWalkFourReferencesOnceTheMapFilledTheShadow() {
    Mmu mmu = mmu(TranslationMode.SHADOW);
    map(mmu, 0, 5, 7);
    assertEquals(p2m[7], mmu.shadowEntry(0, 5), "the emulated map wrote the shadow entry at once");
    assertEquals(4 * REF, access(mmu, 0, 5, 7));
    assertEquals(HIT, access(mmu, 0, 5, 7));
    assertEquals(0, mmu.snapshot().counters().hiddenShadowFaults());
  }

  @Test
  void aShadowMissTheGuestTableSatisfiesIsAHiddenFault() {
    Mmu mmu = mmu(TranslationMode.SHADOW);
    p2m[7] = -1;
    map(mmu, 0, 5, 7); // mapped before its PFN had a frame: no shadow entry yet
    assertEquals(-1, mmu.shadowEntry(0, 5));
    p2m[7] = 1007;
    // Shadow walk (4) + the hypervisor's walk of the guest table (4) + the hidden fault's exit.
    assertEquals(8 * REF + HIDDEN, access(mmu, 0, 5, 7));
    assertEquals(1007, mmu.shadowEntry(0, 5));
    MmuCounters c = mmu.snapshot().counters();
    assertEquals(1, c.hiddenShadowFaults());
    assertEquals(1, c.exitsShadowFill());
    assertEquals(0, c.reflectedFaults());
    // When the same exit resolved a P2M fault, the machine charges the exit; the fill only adds its walks.
    mmu.p2mChanged(7);
    assertEquals(8 * REF, mmu.access(0, 5, 7, 1007, true));
    assertEquals(1, mmu.snapshot().counters().exitsP2mFault());
    assertEquals(1, mmu.snapshot().counters().exitsShadowFill());
  }

  @Test
  void aP2mChangeDropsTheTlbAndShadowEntriesOfThatPfnOnly() {
    for (TranslationMode mode : TranslationMode.values()) {
      Mmu mmu = mmu(mode);
      map(mmu, 0, 5, 7);
      map(mmu, 0, 6, 8);
      access(mmu, 0, 5, 7);
      access(mmu, 0, 6, 8);
      access(mmu, K, 7, 7);
      mmu.p2mChanged(7);
      assertEquals(-1, mmu.tlb().lookup(Tlb.vmTag(1), 0, 5), mode + ": the user mapping's TLB entry");
      assertEquals(-1, mmu.tlb().lookup(Tlb.vmTag(1), K, 7), mode + ": the kernel's TLB entry");
      assertEquals(p2m[8], mmu.tlb().lookup(Tlb.vmTag(1), 0, 6), mode + ": another PFN's entry stays");
      assertEquals(-1, mmu.shadowEntry(0, 5));
      assertEquals(-1, mmu.shadowEntry(K, 7));
      assertEquals(7, mmu.guestEntry(0, 5), mode + ": the guest's own mapping stands");
    }
  }

  @Test
  void shadowTablesStayConsistentWithTheP2m() {
    Mmu mmu = mmu(TranslationMode.SHADOW);
    for (int vpn = 0; vpn < 600; vpn++) {
      map(mmu, vpn % 3, vpn, vpn);
      access(mmu, vpn % 3, vpn, vpn);
      access(mmu, K, vpn, vpn);
    }
    mmu.checkShadowConsistency(pfn -> p2m[pfn]);
    // The hypervisor pages PFNs out and back in to other frames, as it does under overcommit.
    for (int pfn = 0; pfn < 600; pfn += 7) {
      p2m[pfn] = -3;
      mmu.p2mChanged(pfn);
    }
    mmu.checkShadowConsistency(pfn -> p2m[pfn]);
    for (int pfn = 0; pfn < 600; pfn += 7) {
      p2m[pfn] = 3000 + pfn;
      mmu.p2mChanged(pfn);
    }
    for (int vpn = 0; vpn < 600; vpn++) {
      mmu.access(vpn % 3, vpn, vpn, p2m[vpn], vpn % 7 == 0);
    }
    mmu.checkShadowConsistency(pfn -> p2m[pfn]);
    // The check is real: a frame changed behind the MMU's back is caught.
    p2m[1] = 2999;
    assertThrows(IllegalStateException.class, () -> mmu.checkShadowConsistency(pfn -> p2m[pfn]));
  }

  @Test
  void shadowTableBytesGrowWithMappedPagesAndGoWithTheAddressSpace() {
    Mmu mmu = mmu(TranslationMode.SHADOW);
    long empty = mmu.shadowTableBytes();
    assertEquals(Mmu.TABLE_PAGE_BYTES, empty, "the kernel's shadow root");
    long[] bytes = new long[4];
    for (int vpn = 0; vpn < 4 * 512; vpn++) {
      map(mmu, 0, vpn, vpn % PFNS);
      if (vpn % 512 == 511) {
        bytes[vpn / 512] = mmu.shadowTableBytes();
      }
    }
    // Root, PDPT and PD of the address space, then one leaf per 512 pages.
    assertEquals(empty + 4 * Mmu.TABLE_PAGE_BYTES, bytes[0]);
    for (int i = 1; i < 4; i++) {
      assertEquals(bytes[i - 1] + Mmu.TABLE_PAGE_BYTES, bytes[i], Arrays.toString(bytes));
    }
    assertEquals(2048, mmu.snapshot().shadowEntries());
    mmu.event(Mmu.AS_RELEASE, 0, 0, 0, -1);
    assertEquals(empty, mmu.shadowTableBytes());
    assertEquals(0, mmu.snapshot().shadowEntries());
    assertEquals(bytes[3], mmu.snapshot().counters().shadowPeakBytes());
  }

  @Test
  void unmapAndRemapInvalidateTheirVpn() {
    for (TranslationMode mode : TranslationMode.values()) {
      Mmu mmu = mmu(mode);
      map(mmu, 0, 5, 7);
      access(mmu, 0, 5, 7);
      mmu.event(Mmu.PT_REMAP, 0, 5, 9, p2m[9]);
      assertEquals(-1, mmu.tlb().lookup(Tlb.vmTag(1), 0, 5), mode + ": remap drops the old translation");
      access(mmu, 0, 5, 9);
      assertEquals(p2m[9], mmu.tlb().lookup(Tlb.vmTag(1), 0, 5));
      mmu.event(Mmu.PT_UNMAP, 0, 5, 0, -1);
      assertEquals(-1, mmu.tlb().lookup(Tlb.vmTag(1), 0, 5), mode + ": unmap drops it");
      assertEquals(-1, mmu.shadowEntry(0, 5));
      assertEquals(-1, mmu.guestEntry(0, 5));
      // The old PFN no longer belongs to (0, 5): its P2M change must not touch a later owner's entries.
      assertEquals(0, mmu.snapshot().counters().untrackedTranslations(), mode.toString());
    }
  }

  @Test
  void anUntaggedTlbIsFlushedOnEachSwitchAndATaggedOneKeepsItsEntries() {
    for (boolean tagged : new boolean[] {true, false}) {
      Mmu mmu = new Mmu(TranslationMode.NESTED, new TlbConfig(64, 4, tagged), 1, PFNS, COSTS);
      map(mmu, 0, 1, 1);
      map(mmu, 1, 2, 2);
      for (int round = 0; round < 5; round++) {
        mmu.event(Mmu.AS_SWITCH, 0, 0, 0, -1);
        access(mmu, 0, 1, 1);
        access(mmu, K, 100, 100);
        mmu.event(Mmu.AS_SWITCH, 1, 0, 0, -1);
        access(mmu, 1, 2, 2);
      }
      MmuCounters c = mmu.snapshot().counters();
      if (tagged) {
        assertEquals(3, c.tlbMisses(), "each translation missed once");
        assertEquals(0, c.tlbFlushes());
      } else {
        assertEquals(10 + 1, c.tlbMisses(), "user translations miss after every switch; the kernel's is global");
        assertEquals(10, c.tlbFlushes());
      }
    }
  }

  @Test
  void aSecondAliasOfAPfnTakesOverItsCachedTranslations() {
    Mmu mmu = mmu(TranslationMode.SHADOW);
    map(mmu, 0, 5, 7);
    map(mmu, 1, 6, 7); // the same PFN mapped by another process
    assertEquals(-1, mmu.shadowEntry(0, 5), "one alias per PFN holds shadow entries");
    assertEquals(p2m[7], mmu.shadowEntry(1, 6));
    access(mmu, 0, 5, 7); // the first alias refills, and takes the PFN back
    assertEquals(-1, mmu.shadowEntry(1, 6));
    p2m[7] = 5000;
    mmu.p2mChanged(7);
    mmu.checkShadowConsistency(pfn -> p2m[pfn]);
  }

  @Test
  void accessesNoEventAnnouncedAreAdoptedAndCounted() {
    Mmu mmu = mmu(TranslationMode.SHADOW);
    access(mmu, 3, 40, 41);
    assertEquals(41, mmu.guestEntry(3, 40));
    assertEquals(p2m[41], mmu.shadowEntry(3, 40));
    // The guest changes the entry without telling. A TLB hit does not notice, as in hardware...
    assertEquals(HIT, access(mmu, 3, 40, 42));
    assertEquals(1, mmu.snapshot().counters().untrackedTranslations());
    // ...but the next miss does: the stale translation is dropped and refilled from the access's PFN.
    mmu.p2mChanged(41);
    access(mmu, 3, 40, 42);
    assertEquals(2, mmu.snapshot().counters().untrackedTranslations());
    assertEquals(p2m[42], mmu.shadowEntry(3, 40));
    assertEquals(42, mmu.guestEntry(3, 40));
    assertEquals(2, mmu.snapshot().counters().tlbMisses());
  }

  @Test
  void refusesAnAccessOpAsAnEvent() {
    Mmu mmu = mmu(TranslationMode.NESTED);
    assertThrows(IllegalArgumentException.class, () -> mmu.event((byte) 1, 0, 0, 0, -1));
  }
}
