package org.balloonlab.hypervisor.time;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CostModelTest {

  @Test
  void withReplacesExactlyOneConstant() {
    CostModel d = CostModel.DEFAULT;
    CostModel m = d.with("host-swap-read=5000000");
    assertEquals(5_000_000, m.hostSwapReadNs());
    assertEquals(new CostModel(d.memoryAccessNs(), d.guestPageFaultNs(), d.hiddenFaultNs(), d.zeroFrameNs(),
        d.guestSwapReadNs(), d.guestSwapWriteNs(), 5_000_000, d.hostSwapWriteNs()), m);
    assertEquals(0, d.with(" Zero-Frame = 0 ").zeroFrameNs(), "names are case-insensitive, spaces ignored");
  }

  @Test
  void everyNameIsAccepted() {
    List<String> names = new ArrayList<>();
    CostModel.names().forEach(names::add);
    assertEquals(List.of("memory-access", "guest-page-fault", "hidden-fault", "zero-frame", "guest-swap-read",
        "guest-swap-write", "host-swap-read", "host-swap-write", "tlb-hit", "page-walk-reference", "vm-exit",
        "copy-frame", "share-scan"), names);
    CostModel m = CostModel.DEFAULT;
    long v = 1;
    for (String name : names) {
      m = m.with(name + "=" + v++);
    }
    assertEquals(new CostModel(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13), m);
  }

  @Test
  void theScannersCostHasADefaultAndMayBeZero() {
    assertEquals(CostModel.DEFAULT_SHARE_SCAN_NS, CostModel.DEFAULT.shareScanNs());
    assertEquals(1_500, CostModel.DEFAULT_SHARE_SCAN_NS, "docs/cost-model.md gives 1.5 us");
    assertEquals(CostModel.DEFAULT_SHARE_SCAN_NS, new CostModel(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12).shareScanNs(),
        "the 12-constant form takes the default");
    assertEquals(0, CostModel.DEFAULT.with("share-scan=0").shareScanNs(), "zero turns the charge off");
    CostModel m = CostModel.DEFAULT.with("Share-Scan = 2500");
    assertEquals(2_500, m.shareScanNs());
    assertEquals(CostModel.DEFAULT.copyFrameNs(), m.copyFrameNs(), "only share-scan changed");
    for (String bad : new String[] {"share-scan=-1", "share-scan=1.5", "share-scan=", "share-scan=1us"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CostModel.DEFAULT.with(bad));
      assertTrue(e.getMessage().contains("share-scan"), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> new CostModel(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -1));
  }

  @Test
  void theEightConstantFormTakesTheDefaultTranslationCosts() {
    CostModel m = new CostModel(1, 2, 3, 4, 5, 6, 7, 8);
    assertEquals(CostModel.DEFAULT_TLB_HIT_NS, m.tlbHitNs());
    assertEquals(CostModel.DEFAULT_PAGE_WALK_REFERENCE_NS, m.pageWalkReferenceNs());
    assertEquals(CostModel.DEFAULT_VM_EXIT_NS, m.vmExitNs());
    assertEquals(CostModel.DEFAULT_COPY_FRAME_NS, m.copyFrameNs());
    assertEquals(777, m.with("vm-exit=777").vmExitNs());
    assertThrows(IllegalArgumentException.class, () -> new CostModel(0, 0, 0, 0, 0, 0, 0, 0, 0, -1, 0));
  }

  @ParameterizedTest
  @ValueSource(strings = {"bogus=1", "hidden-fault=-3", "hidden-fault=abc", "hidden-fault", "=5", "hidden-fault="})
  void refusesBadAssignmentsByName(String assignment) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CostModel.DEFAULT.with(assignment));
    assertTrue(e.getMessage().length() > 10, e.getMessage());
  }

  @Test
  void unknownNamesListTheKnownOnes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CostModel.DEFAULT.with("bogus=1"));
    assertTrue(e.getMessage().contains("bogus") && e.getMessage().contains("host-swap-write"), e.getMessage());
  }

  @Test
  void refusesNegativeConstants() {
    assertThrows(IllegalArgumentException.class, () -> new CostModel(0, 0, -1, 0, 0, 0, 0, 0));
  }

  @Test
  void describesEveryConstant() {
    String d = new CostModel(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13).describe();
    assertEquals("memory-access=1ns guest-page-fault=2ns hidden-fault=3ns zero-frame=4ns guest-swap-read=5ns "
        + "guest-swap-write=6ns host-swap-read=7ns host-swap-write=8ns tlb-hit=9ns page-walk-reference=10ns "
        + "vm-exit=11ns copy-frame=12ns share-scan=13ns", d);
  }
}
