package org.balloonlab.hypervisor.machine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.balloonlab.hypervisor.event.EventKind;
import org.balloonlab.hypervisor.event.MachineEvent;
import org.balloonlab.hypervisor.mmu.TlbConfig;
import org.balloonlab.hypervisor.policy.AllocationBound;
import org.balloonlab.hypervisor.policy.FreeMemoryState;
import org.balloonlab.hypervisor.policy.ReclamationSettings;
import org.balloonlab.hypervisor.policy.TargetDecision;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The record of why the policy moved a VM's target: built where the decision is applied, kept, published. */
class MachineDecisionTest {
  private static final int FRAMES = 1000;
  private static final long LAB_TIME_NS = 7_000_000_000L;

  @TempDir
  Path dir;

  private Machine machine;

  private Machine newMachine(ReclamationSettings settings) {
    machine = new Machine(new MachineConfig(FRAMES, 4 * FRAMES, dir.resolve("host.swap"), 4096,
        MachineBalloonTest.COSTS, 42, 64, Long.MAX_VALUE, settings), TlbConfig.DEFAULT, () -> LAB_TIME_NS);
    machine.events().stampLabTimeFrom(() -> LAB_TIME_NS);
    return machine;
  }

  @AfterEach
  void close() {
    if (machine != null) {
      machine.close();
    }
  }

  private void write(Vm vm, int to) {
    int[] pfns = MachineBalloonTest.range(0, to);
    byte[] ops = new byte[to];
    Arrays.fill(ops, AccessOps.WRITE);
    machine.validateBatch(vm, to, ops, pfns, to);
    machine.applyBatch(vm, to, ops, pfns, new long[to], new long[to], new BatchResult());
  }

  private List<MachineEvent> decisionEvents() {
    return machine.events().after(0, 1000).events().stream()
        .filter(e -> e.kind() == EventKind.TARGET_DECIDED).toList();
  }

  @Test
  void aDecisionThatMovesATargetRecordsItsInputs() {
    newMachine(ReclamationSettings.ESX);
    Vm big = machine.powerOn("big", "linux", 800, 0, 100);
    Vm small = machine.powerOn("small", "linux", 800, 0, 300);
    write(big, 600);
    write(small, 370);
    assertTrue(machine.decisions(big).isEmpty(), "no decision yet");
    machine.rebalance();

    List<TargetDecision> kept = machine.decisions(big);
    assertEquals(1, kept.size());
    TargetDecision d = kept.get(0);
    VmSnapshot now = machine.vm(big.id());
    assertEquals(LAB_TIME_NS, d.labTimeNs());
    assertEquals("big", d.vmName());
    assertEquals(0, d.fromBalloonPages());
    assertEquals(now.balloon().targetPages(), d.toBalloonPages());
    assertEquals(800, d.fromAllocationPages(), "a VM starts allotted its whole size");
    assertEquals(now.reclamation().allocationTargetPages(), d.toAllocationPages());
    assertEquals(FreeMemoryState.SOFT, d.state());
    assertEquals(FRAMES, d.machineFrames());
    assertEquals(AllocationBound.SHARES, d.bound(), "memory was short: taken by shares per page");
    assertEquals(2, d.vms().size(), "every VM's inputs, the other one's too");
    assertEquals(100, d.self().shares());
    assertEquals(600, d.self().mappedPages());
    assertEquals(0.75, d.self().tau(), 1e-12);
    assertEquals(now.reclamation().sharesPerPage(), d.self().sharesPerPage(), 1e-9 * d.self().sharesPerPage(),
        "rho at its allocation, as the snapshot shows it");
    assertTrue(d.lowestSharesPerPage(), "fewer shares for more pages: the lowest rho");

    List<MachineEvent> events = decisionEvents();
    assertEquals(2, events.size(), "one event per VM whose target moved");
    MachineEvent e = events.stream().filter(x -> x.vmId() == big.id()).findFirst().orElseThrow();
    assertSame(d, e.decision());
    assertTrue(e.message().contains("rule shares"), e.message());
    assertEquals(LAB_TIME_NS, e.labTimeNs());

    machine.rebalance();
    assertEquals(1, machine.decisions(big).size(), "a decision that moves nothing records nothing");
    assertEquals(2, decisionEvents().size());
  }

  @Test
  void theManualPolicyRecordsNoDecisions() {
    newMachine(ReclamationSettings.MANUAL);
    Vm big = machine.powerOn("big", "linux", 800, 0, 100);
    Vm small = machine.powerOn("small", "linux", 800, 0, 300);
    write(big, 600);
    write(small, 370);
    machine.rebalance();
    assertTrue(machine.decisions(big).isEmpty());
    assertTrue(decisionEvents().isEmpty());
  }

  @Test
  void theHistoryKeepsTheLatestDecisionsOnly() {
    newMachine(ReclamationSettings.ESX);
    Vm vm = machine.powerOn("vm", "linux", 100, 0, 0);
    for (int i = 0; i < TargetDecision.HISTORY + 8; i++) {
      vm.recordDecision(new TargetDecision(i, vm.id(), "vm", i, i + 1, 100 - i, 99 - i, FreeMemoryState.SOFT, 0,
          FRAMES, 70, AllocationBound.SHARES, false,
          List.of(new TargetDecision.VmShare(vm.id(), "vm", 10, 0, 100, 50, 99 - i, 0.5, 0.1, 0.75, false))));
    }
    List<TargetDecision> kept = machine.decisions(vm);
    assertEquals(TargetDecision.HISTORY, kept.size());
    assertEquals(8, kept.get(0).labTimeNs(), "the oldest were dropped");
    assertEquals(TargetDecision.HISTORY + 7, kept.get(kept.size() - 1).labTimeNs());
  }

  @Test
  void guestStatsAreKeptAndHandedToThePolicy() {
    newMachine(ReclamationSettings.ESX);
    Vm vm = machine.powerOn("vm", "linux", 100, 0, 0);
    assertNull(machine.vm(vm.id()).guestStats());
    BalloonSession s = machine.openBalloonSession(vm, true, false, true);
    machine.balloonStats(vm, s.id(), new org.balloonlab.domain.kernel.MemoryStats(1, 2, 3, 4, 5, 100, 6));
    machine.balloonStats(vm, s.id(), new org.balloonlab.domain.kernel.MemoryStats(1, 2, 3, 4, 9, 100, 10));
    GuestStats kept = machine.vm(vm.id()).guestStats();
    assertEquals(9, kept.stats().freePages(), "only the latest is kept");
    assertEquals(2, kept.reports());
    assertEquals(LAB_TIME_NS, kept.labTimeNs());
    assertFalse(machine.snapshot().vms().isEmpty());
    assertEquals(kept, machine.snapshot().vms().get(0).guestStats());
  }
}
