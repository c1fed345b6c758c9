package org.balloonlab.hypervisor.mmu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class TlbTest {
  static final int VM = 1;
  static final int OTHER_VM = 2;

  @Test
  void aMissThenAHitAfterAFill() {
    Tlb tlb = new Tlb(16, 4, true);
    assertEquals(-1, tlb.lookup(VM, 0, 42));
    tlb.fill(VM, 0, 42, 7);
    assertEquals(7, tlb.lookup(VM, 0, 42));
  }

  @Test
  void aFullSetEvictsAWayNotRecentlyUsed() {
    // 4 sets of 2 ways: VPNs 0, 4, 8 share set 0.
    Tlb tlb = new Tlb(8, 2, true);
    tlb.fill(VM, 0, 0, 100);
    tlb.fill(VM, 0, 4, 104);
    assertEquals(100, tlb.lookup(VM, 0, 0)); // 0 is now more recent than 4
    tlb.fill(VM, 0, 8, 108);
    assertEquals(-1, tlb.lookup(VM, 0, 4), "the way not used since 0 was hit went");
    assertEquals(100, tlb.lookup(VM, 0, 0));
    assertEquals(108, tlb.lookup(VM, 0, 8));
    // Other sets are untouched by set 0's pressure.
    tlb.fill(VM, 0, 1, 101);
    tlb.fill(VM, 0, 12, 112);
    assertEquals(101, tlb.lookup(VM, 0, 1));
    assertEquals(3, countHits(tlb, 0, 1, 8, 12, 4));
  }

  @Test
  void fillAfterAMissTakesAnEmptyWayThenOneNotRecentlyUsed() {
    Tlb tlb = new Tlb(8, 2, true);
    tlb.fill(VM, 0, 0, 100);
    tlb.fill(VM, 0, 4, 104);
    assertEquals(2, countHits(tlb, 0, 0, 4), "the second fill took the empty way");
    tlb.lookup(VM, 0, 0);
    tlb.fill(VM, 0, 8, 108);
    assertEquals(-1, tlb.lookup(VM, 0, 4));
    assertEquals(100, tlb.lookup(VM, 0, 0));
    assertEquals(108, tlb.lookup(VM, 0, 8));
  }

  @Test
  void associativityDecidesWhatACyclicScanKeeps() {
    // Three VPNs of one set in a loop: with two ways the victim is always the one needed next; three ways hold them.
    assertEquals(0, loopHits(new Tlb(8, 2, true), 4));
    assertEquals(6, loopHits(new Tlb(12, 3, true), 4));
  }

  private static int loopHits(Tlb tlb, int sets) {
    int hits = 0;
    for (int round = 0; round < 3; round++) {
      for (int k = 0; k < 3; k++) {
        int vpn = k * sets;
        if (tlb.lookup(VM, 0, vpn) >= 0) {
          hits++;
        } else {
          tlb.fill(VM, 0, vpn, vpn);
        }
      }
    }
    return hits;
  }

  @Test
  void tagsKeepVmsAndAddressSpacesApart() {
    Tlb tlb = new Tlb(64, 4, true);
    tlb.fill(VM, 3, 42, 1);
    assertEquals(-1, tlb.lookup(OTHER_VM, 3, 42), "another VM's translation of the same asid and VPN");
    assertEquals(-1, tlb.lookup(VM, 4, 42), "another address space of the same VM");
    assertEquals(-1, tlb.lookup(VM, Tlb.GLOBAL_ASID, 42));
    tlb.fill(OTHER_VM, 3, 42, 2);
    tlb.fill(VM, 4, 42, 3);
    assertEquals(1, tlb.lookup(VM, 3, 42));
    assertEquals(2, tlb.lookup(OTHER_VM, 3, 42));
    assertEquals(3, tlb.lookup(VM, 4, 42));
  }

  @Test
  void invalidationDropsOnePageOfOneAddressSpace() {
    Tlb tlb = new Tlb(64, 4, true);
    tlb.fill(VM, 0, 5, 50);
    tlb.fill(VM, 1, 5, 51);
    tlb.fill(OTHER_VM, 0, 5, 52);
    assertTrue(tlb.invalidate(VM, 0, 5));
    assertFalse(tlb.invalidate(VM, 0, 5), "nothing left to drop");
    assertEquals(-1, tlb.lookup(VM, 0, 5));
    assertEquals(51, tlb.lookup(VM, 1, 5));
    assertEquals(52, tlb.lookup(OTHER_VM, 0, 5));
    assertEquals(1, tlb.invalidations());
  }

  @Test
  void releasingAnAddressSpaceDropsAllItsPages() {
    Tlb tlb = new Tlb(64, 4, true);
    for (int vpn = 0; vpn < 10; vpn++) {
      tlb.fill(VM, 2, vpn, vpn);
      tlb.fill(VM, 3, vpn, vpn);
    }
    tlb.fill(OTHER_VM, 2, 0, 0);
    assertEquals(10, tlb.invalidateAddressSpace(VM, 2));
    for (int vpn = 0; vpn < 10; vpn++) {
      assertEquals(-1, tlb.lookup(VM, 2, vpn));
      assertEquals(vpn, tlb.lookup(VM, 3, vpn));
    }
    assertEquals(0, tlb.lookup(OTHER_VM, 2, 0));
  }

  @Test
  void anUntaggedTlbFlushesTheVmOnAContextSwitchButKeepsGlobalEntries() {
    Tlb tlb = new Tlb(64, 4, false);
    tlb.fill(VM, 0, 1, 10);
    tlb.fill(VM, 1, 2, 20);
    tlb.fill(VM, Tlb.GLOBAL_ASID, 3, 30);
    tlb.fill(OTHER_VM, 0, 1, 40);
    assertEquals(2, tlb.contextSwitch(VM));
    assertEquals(-1, tlb.lookup(VM, 0, 1));
    assertEquals(-1, tlb.lookup(VM, 1, 2));
    assertEquals(30, tlb.lookup(VM, Tlb.GLOBAL_ASID, 3), "kernel entries are global");
    assertEquals(40, tlb.lookup(OTHER_VM, 0, 1), "another VM's entries stay");
  }

  @Test
  void aTaggedTlbKeepsEverythingAcrossAContextSwitch() {
    Tlb tlb = new Tlb(64, 4, true);
    tlb.fill(VM, 0, 1, 10);
    tlb.fill(VM, 1, 2, 20);
    assertEquals(0, tlb.contextSwitch(VM));
    assertEquals(10, tlb.lookup(VM, 0, 1));
    assertEquals(20, tlb.lookup(VM, 1, 2));
  }

  @Test
  void flushingAVmCanIncludeItsGlobalEntries() {
    Tlb tlb = new Tlb(64, 4, true);
    tlb.fill(VM, 0, 1, 10);
    tlb.fill(VM, Tlb.GLOBAL_ASID, 3, 30);
    assertEquals(2, tlb.flushVm(VM, true));
    assertEquals(-1, tlb.lookup(VM, 0, 1));
    assertEquals(-1, tlb.lookup(VM, Tlb.GLOBAL_ASID, 3));
  }

  @Test
  void vmTagsAreNeverZeroAndWrapAt16Bits() {
    assertEquals(1, Tlb.vmTag(1));
    assertEquals(Tlb.MAX_VM_TAG, Tlb.vmTag(Tlb.MAX_VM_TAG));
    assertEquals(1, Tlb.vmTag(Tlb.MAX_VM_TAG + 1));
  }

  @Test
  void refusesShapesThatAreNotATlb() {
    assertThrows(IllegalArgumentException.class, () -> new Tlb(0, 1, true));
    assertThrows(IllegalArgumentException.class, () -> new Tlb(10, 3, true));
    assertThrows(IllegalArgumentException.class, () -> new TlbConfig(1536, 7, true));
    assertThrows(IllegalArgumentException.class, () -> new TlbConfig(TlbConfig.MAX_ENTRIES + 1, 1, true));
  }

  private static int countHits(Tlb tlb, int asid, int... vpns) {
    int hits = 0;
    for (int vpn : vpns) {
      if (tlb.lookup(VM, asid, vpn) >= 0) {
        hits++;
      }
    }
    return hits;
  }
}
