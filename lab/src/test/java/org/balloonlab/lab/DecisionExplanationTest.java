package org.balloonlab.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.balloonlab.proto.BalloonStats;
import org.balloonlab.proto.GuestStatsState;
import org.balloonlab.proto.TargetDecision;
import org.balloonlab.proto.VmShare;
import org.balloonlab.proto.VmState;
import org.junit.jupiter.api.Test;

/** The words {@code balloonlab explain} and the report use for the policy's decisions, and the guest-stats line. */
class DecisionExplanationTest {
  private static final long MIB = 256;

  private static VmShare share(int id, String name, long allocation, double f, double rho, double tau) {
    return VmShare.newBuilder().setVmId(id).setVmName(name).setShares(1000).setMaxPages(512 * MIB)
        .setMappedPages(500 * MIB).setAllocationPages(allocation).setActiveFraction(f).setSharesPerPage(rho)
        .setTau(tau).build();
  }

  /** vm2's allocation falls from 512 MiB to 384 MiB at t = 62 s in the low state: idle, taxed at 0.75. */
  private static TargetDecision.Builder taxed() {
    return TargetDecision.newBuilder().setLabTimeNs(62_000_000_000L).setVmId(2).setVmName("vm2")
        .setFromBalloonPages(0).setToBalloonPages(128 * MIB).setFromAllocationPages(512 * MIB)
        .setToAllocationPages(384 * MIB).setFreeState("low").setFreeFrames(5 * MIB).setMachineFrames(1024 * MIB)
        .setTargetFreeFrames(72 * MIB).setBound("shares").setHeldBack(true)
        .addVms(share(1, "vm1", 600 * MIB, 0.95, 0.0062, 0.75))
        .addVms(share(2, "vm2", 384 * MIB, 0.10, 0.0028, 0.75));
  }

  @Test
  void aTaxedIdleVmIsExplainedByItsSharesPerPageAndTheTax() {
    String text = DecisionExplanation.explain(taxed().build());
    assertTrue(text.startsWith("At t=62.0 s, vm2's allocation fell from 512MiB to 384MiB (its balloon target "
        + "rose from 0B to 128MiB) because free memory was LOW (5MiB free of 1GiB; the policy keeps 72MiB free)"),
        text);
    assertTrue(text.contains("so the policy took memory from the VM with the lowest shares per page, a chunk at a "
        + "time, and vm2 had the lowest shares per page."), text);
    assertTrue(text.contains("It used 10 % of its memory actively (f = 0.10), so the idle memory tax (tau 0.75) "
        + "charged each of its idle pages 4x an active one (k = 1 / (1 - tau)): rho = 1000 / (98304 x (0.10 + 4 x "
        + "0.90))"), text);
    assertTrue(text.contains("vm1        shares 1000, uses 500MiB, allocated 600MiB, active 95 %, tau 0.75"), text);
  }

  @Test
  void withoutTheTaxSharesAloneDecide() {
    TargetDecision d = taxed().clearVms().addVms(share(1, "vm1", 600 * MIB, 0.95, 0.0016, 0))
        .addVms(share(2, "vm2", 384 * MIB, 0.10, 0.0025, 0)).build();
    String text = DecisionExplanation.explain(d);
    assertTrue(text.contains("vm2 was among those it took from"), "vm1 has the lower rho: " + text);
    assertTrue(text.contains("No idle memory tax applied (tau 0): shares alone decided"), text);
  }

  @Test
  void theOtherRulesHaveTheirOwnWords() {
    assertTrue(DecisionExplanation.explain(taxed().setBound("min").build())
        .contains("down to its reserved minimum (min 0B), where reclaiming stops."));
    String ask = DecisionExplanation.explain(taxed().setBound("ask").setToAllocationPages(520 * MIB)
        .setToBalloonPages(0).setFromBalloonPages(8 * MIB).build());
    assertTrue(ask.contains("vm2's allocation rose from 512MiB to 520MiB"), ask);
    assertTrue(ask.contains("it got what it asked for: the 500MiB it uses plus room to grow into (twice the usual "
        + "room"), ask);
    assertTrue(DecisionExplanation.explain(taxed().setBound("whole-size").setFreeState("high").build())
        .contains("because free memory was HIGH"));
  }

  @Test
  void statusShowsTheGuestsLatestStats() {
    VmState vm = VmState.newBuilder().setName("vm1").setGuestStats(GuestStatsState.newBuilder()
        .setStats(BalloonStats.newBuilder().setSwapIn(2).setSwapOut(256).setMajorFaults(3).setMinorFaults(40)
            .setFreePages(512).setTotalPages(16 * MIB).setAvailablePages(1024))
        .setLabTimeNs(1_500_000_000L).setReports(7)).build();
    assertEquals("guest stats vm1        free 2MiB, available 4MiB of 16MiB; faults 3 major, 40 minor; swapped in "
        + "8KiB, out 1MiB (report 7, at 1.5s)", VmTable.guestStatsLine(vm));
  }
}
