package org.balloonlab.hypervisor.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The reasons a policy gives with its allocation: the rule that bounded each VM, rho, held back. */
class PolicyResultTest {
  private static final long FRAMES = 10_000;

  private static MemoryPressure pressure(FreeMemoryState state, long free) {
    FreeMemoryThresholds t = FreeMemoryThresholds.ESX;
    return new MemoryPressure(FRAMES, free, state, t.targetFreeFrames(FRAMES), t.hysteresisFrames(FRAMES));
  }

  private static VmDemand vm(long min, long shares, long mapped, long target, double f, boolean pinned) {
    return new VmDemand(0, 8000, min, shares, mapped, 0, target, f, pinned, -1, -1, 0.75);
  }

  @Test
  void decideAllocatesAsAllocateDoes() {
    List<VmDemand> vms = List.of(vm(0, 100, 7000, 7000, 0.1, false), vm(0, 100, 7000, 7000, 1, false));
    SharesPolicy policy = new SharesPolicy(0.75);
    MemoryPressure p = pressure(FreeMemoryState.SOFT, 500);
    assertArrayEquals(policy.allocate(p, vms), policy.decide(p, vms).allocations());
  }

  @Test
  void underPressureTheIdleVmIsBoundByShares() {
    List<VmDemand> vms = List.of(vm(0, 100, 7000, 7000, 0.1, false), vm(0, 100, 7000, 7000, 1, false));
    PolicyResult r = new SharesPolicy(0.75).decide(pressure(FreeMemoryState.SOFT, 500), vms);
    assertEquals(AllocationBound.SHARES, r.bound(0, vms.get(0)));
    assertTrue(r.heldBack()[0], "it had reached its last allocation");
    assertEquals(ReclamationPolicy.sharesPerPage(100, r.allocations()[0], 0.1, 0.75), r.sharesPerPage()[0], 1e-12);
    assertTrue(r.allocations()[0] < r.allocations()[1], "the tax moved memory to the active VM");
    assertFalse(r.plentiful());
  }

  @Test
  void aVmReclaimedToItsMinIsBoundByIt() {
    List<VmDemand> vms = List.of(vm(3000, 1, 7000, 7000, 0, false), vm(0, 1000, 7000, 7000, 1, false));
    PolicyResult r = new SharesPolicy(0.75).decide(pressure(FreeMemoryState.HARD, 100), vms);
    assertEquals(3000, r.allocations()[0]);
    assertEquals(AllocationBound.MIN, r.bound(0, vms.get(0)));
  }

  @Test
  void plentyGivesEveryVmItsWholeSizeAndAPinStaysAPin() {
    List<VmDemand> vms = List.of(vm(0, 100, 1000, 8000, 1, false), vm(0, 100, 1000, 1000, 1, true));
    PolicyResult r = new SharesPolicy(0.75).decide(pressure(FreeMemoryState.HIGH, 8000), vms);
    assertTrue(r.plentiful());
    assertEquals(AllocationBound.WHOLE_SIZE, r.bound(0, vms.get(0)));
    assertEquals(AllocationBound.PINNED, r.bound(1, vms.get(1)));
    assertEquals(1000, r.allocations()[1]);
  }

  @Test
  void withRoomToSpareAVmGetsWhatItAsks() {
    List<VmDemand> vms = List.of(vm(0, 100, 1000, 8000, 1, false));
    PolicyResult r = new SharesPolicy(0.75).decide(pressure(FreeMemoryState.HIGH, 650), vms);
    assertEquals(AllocationBound.ASK, r.bound(0, vms.get(0)));
    assertEquals(2000, r.allocations()[0], "what it uses plus an eighth of its size");
    assertFalse(r.heldBack()[0]);
  }

  @Test
  void aPolicyThatGivesNoReasonsIsTakenToHaveGivenWhatWasAsked() {
    List<VmDemand> vms = List.of(vm(0, 100, 1000, 8000, 1, false));
    PolicyResult r = new ManualPolicy().decide(pressure(FreeMemoryState.SOFT, 300), vms);
    assertEquals(AllocationBound.ASK, r.bound(0, vms.get(0)));
  }
}
