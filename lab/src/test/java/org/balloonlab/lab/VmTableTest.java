package org.balloonlab.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.balloonlab.proto.LabClockState;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.proto.MachineState;
import org.balloonlab.proto.VmState;
import org.junit.jupiter.api.Test;

/** The live table's lab time and clock line. */
class VmTableTest {
  @Test
  void labTimesReadAsPeopleWriteThem() {
    assertEquals("0s", VmTable.labTime(0));
    assertEquals("30s", VmTable.labTime(30_000_000_000L));
    assertEquals("12.5s", VmTable.labTime(12_500_000_000L));
    assertEquals("0.01s", VmTable.labTime(10_000_000L));
  }

  @Test
  void theClockLineSaysWhereTheClockStandsHowFastAndWhetherTheRunIsReproducible() {
    LabClockState clock = LabClockState.newBuilder().setLockstep(true).setLabTimeNs(90_000_000_000L)
        .setQuantumNs(10_000_000L).setPace(0).setParticipants(3).setReproducible(true)
        .setSimulatedPerWallSecond(2.345).build();
    assertEquals("90s      clock: lab time 90s, pace max (2.35 simulated s per wall s), quantum 10ms, 3 VMs on it; "
        + "reproducible", VmTable.clockLine("90s", clock));
    String dropped = VmTable.clockLine("90s", clock.toBuilder().setPace(0.5).setReproducible(false)
        .addNotReproducibleBecause("vm2 was dropped").build());
    assertTrue(dropped.contains("pace 0.5x") && dropped.endsWith("not reproducible: vm2 was dropped"), dropped);
    assertTrue(VmTable.clockLine("3s", LabClockState.getDefaultInstance()).contains("free running"));
  }

  @Test
  void theTableShowsTheClockOnlyWhenTheHypervisorHasOne() {
    ListVmsResponse without = ListVmsResponse.newBuilder().setMachine(MachineState.newBuilder().setMachineFrames(4))
        .build();
    assertEquals(1, VmTable.render("1s", without).lines().count());
    ListVmsResponse with = without.toBuilder().setMachine(without.getMachine().toBuilder()
        .setClock(LabClockState.newBuilder().setLockstep(true))).build();
    assertTrue(VmTable.render("1s", with).lines().skip(1).findFirst().orElseThrow().contains("clock: lab time"));
  }

  @Test
  void vmsAreListedInNaturalOrder() {
    ListVmsResponse.Builder b = ListVmsResponse.newBuilder().setMachine(MachineState.newBuilder().setMachineFrames(4));
    for (String name : new String[] {"vm10", "vm2", "vm1", "vm11", "vm3"}) {
      b.addVms(VmState.newBuilder().setName(name));
    }
    assertEquals(java.util.List.of("vm1", "vm2", "vm3", "vm10", "vm11"), VmTable.render("1s", b.build()).lines()
        .limit(5).map(l -> l.split("\\s+")[1]).toList());
  }
}
