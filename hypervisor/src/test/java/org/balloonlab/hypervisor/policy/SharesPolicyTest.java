package org.balloonlab.hypervisor.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class SharesPolicyTest {
  private static final long FRAMES = 10_000;
  /** The machine can give 10000 - 700 (the free memory it keeps, 7 %) = 9300 pages. */
  private static final long AVAILABLE = 9_300;

  private static MemoryPressure pressure(FreeMemoryState state) {
    return pressure(state, 500);
  }

  private static MemoryPressure pressure(FreeMemoryState state, long free) {
    FreeMemoryThresholds t = FreeMemoryThresholds.ESX;
    return new MemoryPressure(FRAMES, free, state, t.targetFreeFrames(FRAMES), t.hysteresisFrames(FRAMES));
  }

  /** A VM of 8000 pages (headroom 1000) mapping {@code mapped} pages under a last allocation of {@code target}. */
  private static VmDemand vm(long min, long shares, long mapped, long target, double f) {
    return new VmDemand(0, 8000, min, shares, mapped, 0, target, f, false, -1, -1);
  }

  @Test
  void sharesPerPageFollowsTheFormula() {
    // k = 4 at tau 0.75: an idle page counts four times.
    assertEquals(1000.0 / (100 * (0.5 + 4 * 0.5)), ReclamationPolicy.sharesPerPage(1000, 100, 0.5, 0.75), 1e-9);
    assertEquals(10.0, ReclamationPolicy.sharesPerPage(1000, 100, 0.0, 0), 1e-9);
    assertEquals(10.0, ReclamationPolicy.sharesPerPage(1000, 100, 1.0, 0.75), 1e-9, "active pages pay no tax");
  }

  @Test
  void vmsAskForWhatTheyUsePlusHeadroomAndMoreWhenHeldBack() {
    long[] a = new SharesPolicy(0.75).allocate(pressure(FreeMemoryState.HIGH),
        List.of(vm(0, 100, 2000, 8000, 1), vm(0, 100, 3000, 3400, 1)));
    assertArrayEquals(new long[] {3000, 5000}, a, "7000 asked of 9300: everyone gets what it asks");
  }

  @Test
  void vmsHeldBackByTheirAllocationSplitTheMachineByShares() {
    long[] a = new SharesPolicy(0).allocate(pressure(FreeMemoryState.SOFT),
        List.of(vm(0, 100, 7000, 7000, 1), vm(0, 300, 7000, 7000, 1)));
    assertEquals(AVAILABLE, a[0] + a[1]);
    assertEquals(3.0, (double) a[1] / a[0], 0.15, "in proportion to shares: " + a[0] + ", " + a[1]);
  }

  @Test
  void aVmsOwnRateOverridesThePolicysRate() {
    VmDemand idle = vm(0, 100, 7000, 7000, 0.05);
    VmDemand active = vm(0, 100, 7000, 7000, 1);
    long[] machineWide = new SharesPolicy(0).allocate(pressure(FreeMemoryState.SOFT),
        List.of(withTau(idle, 0.75), withTau(active, 0.75)));
    assertEquals(1918, machineWide[0], 150, "the demands' rate, 0.75, not the policy's 0");
    long[] exempt = new SharesPolicy(0.75).allocate(pressure(FreeMemoryState.SOFT),
        List.of(withTau(idle, 0), active));
    assertEquals(exempt[0], exempt[1], 200, "the idle VM's own rate 0 spares it the tax: " + exempt[0]);
  }

  private static VmDemand withTau(VmDemand d, double tau) {
    return new VmDemand(d.vmId(), d.maxPages(), d.minPages(), d.shares(), d.mappedPages(), d.hostSwappedPages(),
        d.currentTarget(), d.activeFraction(), d.pinned(), d.guestFreePages(), d.guestMajorFaults(), tau);
  }

  @Test
  void theIdleMemoryTaxMovesMemoryToTheActiveVm() {
    List<VmDemand> vms = List.of(vm(0, 100, 7000, 7000, 0.05), vm(0, 100, 7000, 7000, 1));
    long[] untaxed = new SharesPolicy(0).allocate(pressure(FreeMemoryState.SOFT), vms);
    assertEquals(untaxed[0], untaxed[1], 200, "tau 0: equal shares, equal memory");
    long[] taxed = new SharesPolicy(0.75).allocate(pressure(FreeMemoryState.SOFT), vms);
    // rho equal when E_active = (0.05 + 4 * 0.95) E_idle = 3.85 E_idle: 1918 and 7382 of 9300.
    assertEquals(1918, taxed[0], 150);
    assertEquals(7382, taxed[1], 150);
    assertEquals(AVAILABLE, taxed[0] + taxed[1]);
  }

  @Test
  void withMemoryToSpareEveryVmAsksForItsWholeSize() {
    // 3000 free: more than the 700 aimed for plus the 100 of hysteresis.
    long[] a = new SharesPolicy(0.75).allocate(pressure(FreeMemoryState.HIGH, 3000),
        List.of(vm(0, 100, 2000, 3000, 0), vm(0, 100, 3000, 4000, 1)));
    assertEquals(AVAILABLE, a[0] + a[1], "the machine is shared out whole");
    // Both ask for 8000; with an idle page taxed four times, the active VM gets four times the idle one's share.
    assertEquals(7440, a[1], 100, "the active VM's balloon deflates to its share");
  }

  @Test
  void neverBelowMin() {
    long[] a = new SharesPolicy(0.75).allocate(pressure(FreeMemoryState.HARD),
        List.of(vm(6000, 1, 6500, 6500, 0), vm(0, 1000, 4000, 4000, 1)));
    assertArrayEquals(new long[] {6000, 3300}, a, "the idle, cheap VM only down to its min; the rest is the other's");
  }

  @Test
  void aPinnedVmKeepsItsTargetAndTheOthersShareTheRest() {
    long[] a = new SharesPolicy(0).allocate(pressure(FreeMemoryState.SOFT),
        List.of(new VmDemand(1, 8000, 0, 1, 4900, 0, 3000, 0, true, -1, -1), vm(0, 100, 7000, 7000, 1)));
    assertArrayEquals(new long[] {3000, 6300}, a);
  }

  @Test
  void nothingToShareWhenEveryVmIsPinnedOrAtItsMin() {
    long[] a = new SharesPolicy(0).allocate(pressure(FreeMemoryState.LOW),
        List.of(vm(5000, 1, 5000, 5000, 1), vm(5000, 1, 5000, 5000, 1)));
    assertArrayEquals(new long[] {5000, 5000}, a, "reservations beyond what can be given stay");
  }

  @Test
  void tauOutOfRangeIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new SharesPolicy(1));
    assertThrows(IllegalArgumentException.class, () -> new SharesPolicy(-0.1));
  }
}
