package org.balloonlab.hypervisor.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class SharesPolicyTest {
  private static final long FRAMES = 10_000;

  private static MemoryPressure pressure(long free, FreeMemoryState state) {
    FreeMemoryThresholds t = FreeMemoryThresholds.ESX;
    return new MemoryPressure(FRAMES, free, state, t.targetFreeFrames(FRAMES), t.hysteresisFrames(FRAMES));
  }

  private static VmDemand vm(int id, long max, long min, long shares, long mapped, long target, double f) {
    return new VmDemand(id, max, min, shares, mapped, target, f, false, -1, -1);
  }

  @Test
  void sharesPerPageFollowsTheFormula() {
    // k = 4 at tau 0.75: an idle page counts four times.
    assertEquals(1000.0 / (100 * (0.5 + 4 * 0.5)), ReclamationPolicy.sharesPerPage(1000, 100, 0.5, 0.75), 1e-9);
    assertEquals(10.0, ReclamationPolicy.sharesPerPage(1000, 100, 0.0, 0), 1e-9);
    assertEquals(10.0, ReclamationPolicy.sharesPerPage(1000, 100, 1.0, 0.75), 1e-9, "active pages pay no tax");
  }

  @Test
  void nothingIsReclaimedInTheHighState() {
    List<VmDemand> vms = List.of(vm(1, 6000, 0, 100, 5000, 6000, 1), vm(2, 6000, 0, 100, 4000, 6000, 1));
    assertArrayEquals(new long[] {6000, 6000}, new SharesPolicy(0.75).allocate(pressure(1000, FreeMemoryState.HIGH),
        vms));
  }

  @Test
  void reclaimsTheDeficitFromTheLowestSharesPerPage() {
    // 300 free of 10000, the target is 700: 400 pages to reclaim. VM 1 holds twice as much for the same shares.
    List<VmDemand> vms = List.of(vm(1, 8000, 0, 100, 6400, 8000, 1), vm(2, 8000, 0, 100, 3300, 8000, 1));
    long[] t = new SharesPolicy(0).allocate(pressure(300, FreeMemoryState.SOFT), vms);
    assertEquals(6000, t[0], "all of it from the VM with the lowest shares per page");
    assertEquals(8000, t[1], "the other keeps its allotment");
  }

  @Test
  void theIdleMemoryTaxReclaimsFromTheIdleVm() {
    // Equal shares and equal sizes; one idle, one active.
    List<VmDemand> vms = List.of(vm(1, 8000, 0, 100, 4850, 8000, 0.05), vm(2, 8000, 0, 100, 4850, 8000, 1));
    long[] taxed = new SharesPolicy(0.75).allocate(pressure(300, FreeMemoryState.SOFT), vms);
    assertEquals(4850 - 400, taxed[0]);
    assertEquals(8000, taxed[1]);
    long[] untaxed = new SharesPolicy(0).allocate(pressure(300, FreeMemoryState.SOFT), vms);
    assertTrue(Math.abs((4850 - untaxed[0]) - (4850 - Math.min(untaxed[1], 4850))) <= 16,
        "without the tax the deficit is split: " + untaxed[0] + ", " + untaxed[1]);
  }

  @Test
  void neverBelowMinAndPinnedVmsAreLeftAlone() {
    List<VmDemand> vms = List.of(vm(1, 8000, 4700, 100, 4800, 8000, 0),
        new VmDemand(2, 8000, 0, 1, 4900, 3000, 0, true, -1, -1));
    long[] t = new SharesPolicy(0.75).allocate(pressure(300, FreeMemoryState.HARD), vms);
    assertEquals(4700, t[0], "taken down to its min and no further");
    assertEquals(3000, t[1], "pinned");
  }

  @Test
  void memoryAlreadyBeingReclaimedCountsAgainstTheDeficit() {
    // VM 1 is 400 pages above its target already: that is the whole deficit.
    List<VmDemand> vms = List.of(vm(1, 8000, 0, 100, 5000, 4600, 1), vm(2, 8000, 0, 100, 4700, 8000, 1));
    long[] t = new SharesPolicy(0).allocate(pressure(300, FreeMemoryState.SOFT), vms);
    assertArrayEquals(new long[] {4600, 8000}, t);
  }

  @Test
  void surplusIsGivenBackToTheHighestSharesPerPageFirst() {
    // 3000 free: the surplus over target + hysteresis (800) is 2200.
    List<VmDemand> vms = List.of(vm(1, 8000, 0, 100, 3000, 3000, 1), vm(2, 8000, 0, 300, 4000, 4000, 1));
    long[] t = new SharesPolicy(0).allocate(pressure(3000, FreeMemoryState.HIGH), vms);
    assertEquals(2200, (t[0] - 3000) + (t[1] - 4000), "the whole surplus is given back");
    assertTrue(t[1] - 4000 > t[0] - 3000, "more to the VM with more shares per page: " + t[0] + ", " + t[1]);
    assertTrue(t[0] <= 8000 && t[1] <= 8000);
  }

  @Test
  void tauOutOfRangeIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new SharesPolicy(1));
    assertThrows(IllegalArgumentException.class, () -> new SharesPolicy(-0.1));
  }
}
