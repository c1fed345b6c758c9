package org.balloonlab.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.balloonlab.guest.cli.GuestAgentCommand;
import org.balloonlab.lab.JvmProcess;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.proto.MachineState;
import org.balloonlab.proto.VmState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two guests whose VMs and workloads together exceed machine memory, each in its own JVM: the hypervisor must
 * page, pages must come back, double paging must show up, and no read may ever return the wrong value.
 */
class OvercommitIT {
  private static final long MACHINE_FRAMES = 64L * 256; // 64MiB
  private Lab lab;

  @AfterEach
  void tearDown() throws InterruptedException {
    if (lab != null) {
      lab.close();
    }
  }

  @Test
  void hypervisorPagesWhenGuestsOvercommitMachineMemory() throws Exception {
    lab = new Lab("overcommit");
    lab.startHypervisor("--policy", "manual", "--memory", "64MiB");
    // 2 x 48MiB of VMs on 64MiB: 1.5x overcommitted. Each workload touches 56MiB, more than its VM has, so
    // the guests page too, which is what makes double paging possible.
    JvmProcess a = lab.startReadyGuest("vm-a", "--memory", "48MiB", "--workload", "uniform:footprint=56MiB",
        "--seed", "11", "--duration", "1h");
    JvmProcess b = lab.startReadyGuest("vm-b", "--memory", "48MiB", "--workload",
        "hotset:footprint=56MiB,hot=0.3", "--seed", "12", "--duration", "1h");

    List<String> accountingErrors = new CopyOnWriteArrayList<>();
    await("hypervisor paging, page-ins and double paging").atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(250))
        .until(() -> {
          ListVmsResponse state = lab.state();
          checkAccounting(state, accountingErrors);
          MachineState m = state.getMachine();
          return m.getHostPageOuts() > 1000 && m.getHostPageIns() > 1000 && m.getDoublePaging() > 10
              && state.getVmsCount() == 2
              && state.getVmsList().stream().allMatch(v -> v.getGuest().getGuestPageOuts() > 0);
        });

    ListVmsResponse state = lab.state();
    checkAccounting(state, accountingErrors);
    assertEquals(List.of(), accountingErrors, "free + mapped must equal machine frames at every observation");
    assertEquals(MACHINE_FRAMES, state.getMachine().getMachineFrames());
    assertTrue(state.getMachine().getConfiguredPages() > MACHINE_FRAMES, "the machine is overcommitted");
    for (VmState vm : state.getVmsList()) {
      assertTrue(vm.getCounters().getHostPageOuts() > 0, vm.getName() + " was paged by the hypervisor");
      assertTrue(vm.getCounters().getHostSwapInFaults() > 0, vm.getName() + " had pages come back on touch");
      assertEquals(0, vm.getGuest().getIntegrityViolations(), vm.getName() + " integrity violations");
      assertEquals(0, vm.getGuest().getIsolationViolations(), vm.getName() + " isolation violations");
    }

    // Stop both guests as an operator would (SIGTERM): they audit every page, power off and report.
    for (JvmProcess guest : List.of(a, b)) {
      guest.stop(30, TimeUnit.SECONDS);
      String summary = guest.lineStartingWith(GuestAgentCommand.SUMMARY);
      assertNotNull(summary, guest.name() + " printed its summary");
      assertTrue(summary.contains("integrity_violations=0"), summary);
      assertTrue(summary.contains("isolation_violations=0"), summary);
    }
    await("every frame back").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
        .until(() -> lab.state().getMachine().getFreeFrames() == MACHINE_FRAMES);
    MachineState end = lab.state().getMachine();
    assertEquals(0, end.getPoweredOnVms());
    assertEquals(0, end.getHostSwapUsed(), "host swap slots are released with their VMs");
  }

  static void checkAccounting(ListVmsResponse state, List<String> errors) {
    MachineState m = state.getMachine();
    if (m.getFreeFrames() + m.getMappedFrames() != m.getMachineFrames()) {
      errors.add("free " + m.getFreeFrames() + " + mapped " + m.getMappedFrames() + " != " + m.getMachineFrames());
    }
    long sum = state.getVmsList().stream().mapToLong(VmState::getMappedPages).sum();
    if (sum != m.getMappedFrames()) {
      errors.add("VMs map " + sum + " pages but the machine counts " + m.getMappedFrames() + " mapped frames");
    }
  }
}
