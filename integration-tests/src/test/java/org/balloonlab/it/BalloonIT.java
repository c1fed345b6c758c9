package org.balloonlab.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.balloonlab.proto.DriverMode;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.proto.VmState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Ballooning with the hypervisor and guests in separate JVMs: a target set by hand is met exactly, the frames
 * it frees serve another VM, and drivers that are disabled, uninstalled, late or stuck behave as such.
 */
class BalloonIT {
  private static final int MIB = 256; // pages
  /** What a 64 MiB guest pins and writes at boot: 1/64 of it in boot structures, an eighth of it as OS image. */
  private static final int BOOT_PINNED_64MIB = 64 * MIB / 64 + 64 * MIB / 8;
  private Lab lab;

  @AfterEach
  void tearDown() throws InterruptedException {
    if (lab != null) {
      lab.close();
    }
  }

  @Test
  void targetIsMetExactlyAndItsFramesServeAnotherVm() throws Exception {
    lab = new Lab("balloon-inflate");
    lab.startHypervisor("--policy", "manual", "--memory", "96MiB");
    // The hot set touches more than the VM has, so every PFN gets a frame and the guest pages itself.
    lab.startReadyGuest("giver", "--memory", "64MiB", "--workload", "hotset:footprint=80MiB,hot=0.2",
        "--duration", "1h");
    await("every page of the giver backed").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> lab.vm("giver").getMappedPages() == 64 * MIB);
    long pageOutsBefore = lab.vm("giver").getGuest().getGuestPageOuts();
    long accessesBefore = lab.vm("giver").getCounters().getAccesses();

    int target = 32 * MIB;
    lab.setBalloonTarget("giver", target);
    await("balloon at target").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
        .until(() -> lab.vm("giver").getBalloon().getSizePages() == target);
    VmState giver = lab.vm("giver");
    assertEquals(64 * MIB - target, giver.getMappedPages(), "exactly the ballooned pages lost their frames");
    assertEquals(target, giver.getBalloon().getTargetPages());
    assertFalse(giver.getBalloon().getUncooperative());
    ListVmsResponse state = lab.state();
    assertEquals(96 * MIB - (64 * MIB - target), state.getMachine().getFreeFrames());
    await("the guest paged out to give the pages").atMost(Duration.ofSeconds(10))
        .until(() -> lab.vm("giver").getGuest().getGuestPageOuts() > pageOutsBefore);

    // The frames serve another VM: 57MiB more (48MiB of workload, 9MiB the guest pins at boot: 1MiB of boot
    // structures and an 8MiB OS image) fits only because the balloon gave 32MiB back.
    lab.startReadyGuest("taker", "--memory", "64MiB", "--workload", "uniform:footprint=48MiB", "--duration", "1h");
    await("the taker is backed").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> lab.vm("taker").getMappedPages() == 48 * MIB + BOOT_PINNED_64MIB);
    assertEquals(0, lab.state().getMachine().getHostPageOuts(), "no hypervisor paging was needed");
    assertEquals(target, lab.vm("giver").getBalloon().getSizePages());

    // Lowering the target deflates.
    lab.setBalloonTarget("giver", 8 * MIB);
    await("balloon deflated").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
        .until(() -> lab.vm("giver").getBalloon().getSizePages() == 8 * MIB);

    await("the giver's process keeps running").atMost(Duration.ofSeconds(20))
        .until(() -> lab.vm("giver").getCounters().getAccesses() > accessesBefore + 100_000);
    for (VmState vm : lab.state().getVmsList()) {
      assertEquals(0, vm.getGuest().getIntegrityViolations(), vm.getName());
      assertEquals(0, vm.getGuest().getIsolationViolations(), vm.getName());
      assertEquals(0, vm.getCounters().getBalloonFaults(), vm.getName() + " never touched a ballooned page");
    }
  }

  @Test
  void disabledUninstalledLateAndStuckDriversBehaveAsSuch() throws Exception {
    lab = new Lab("balloon-driver-faults");
    lab.startHypervisor("--policy", "manual", "--memory", "512MiB", "--balloon-stall-timeout", "2s");
    String[] common = {"--memory", "64MiB", "--workload", "hotset:footprint=32MiB", "--duration", "1h"};
    long lateStart = System.nanoTime();
    lab.startReadyGuest("late", concat(common, "--balloon", "late:5s"));
    lab.startReadyGuest("disabled", concat(common, "--balloon", "disabled"));
    lab.startReadyGuest("uninstalled", concat(common, "--balloon", "uninstalled"));
    lab.startReadyGuest("stuck", concat(common, "--balloon", "stuck"));
    await("every guest touched its footprint").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
        .until(() -> lab.state().getVmsList().stream().allMatch(v -> v.getMappedPages() >= 32 * MIB));

    int target = 16 * MIB;
    List<Long> lateConnectedAfter = new CopyOnWriteArrayList<>();
    for (String vm : List.of("late", "disabled", "uninstalled", "stuck")) {
      lab.setBalloonTarget(vm, target);
    }
    long mappedDisabled = lab.vm("disabled").getMappedPages();
    long mappedUninstalled = lab.vm("uninstalled").getMappedPages();

    await("disabled, uninstalled and stuck drivers are marked uncooperative").atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> {
          ListVmsResponse s = lab.state();
          if (lateConnectedAfter.isEmpty() && Lab.vm(s, "late").getBalloon().getDriverConnected()) {
            lateConnectedAfter.add(System.nanoTime() - lateStart);
          }
          return Lab.vm(s, "disabled").getBalloon().getUncooperative()
              && Lab.vm(s, "uninstalled").getBalloon().getUncooperative()
              && Lab.vm(s, "stuck").getBalloon().getUncooperative();
        });
    VmState disabled = lab.vm("disabled");
    assertTrue(disabled.getBalloon().getDriverConnected(), "a disabled driver is loaded and talks");
    assertEquals(0, disabled.getBalloon().getSizePages());
    assertTrue(disabled.getMappedPages() >= mappedDisabled, "the disabled guest keeps its frames");
    VmState uninstalled = lab.vm("uninstalled");
    assertFalse(uninstalled.getBalloon().getDriverConnected(), "an uninstalled driver never connects");
    assertEquals(0, uninstalled.getBalloon().getSizePages());
    assertTrue(uninstalled.getMappedPages() >= mappedUninstalled, "the uninstalled guest keeps its frames");
    assertEquals(target, uninstalled.getBalloon().getTargetPages(), "the unmet target is visible");
    assertTrue(lab.vm("stuck").getBalloon().getSizePages() < target, "the stuck driver stopped mid-inflation");

    await("the late driver balloons after its delay").atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> {
          VmState late = lab.vm("late");
          if (lateConnectedAfter.isEmpty() && late.getBalloon().getDriverConnected()) {
            lateConnectedAfter.add(System.nanoTime() - lateStart);
          }
          return late.getBalloon().getSizePages() == target;
        });
    assertTrue(lateConnectedAfter.get(0) >= Duration.ofSeconds(5).toNanos(),
        "the late driver connected " + lateConnectedAfter.get(0) / 1_000_000 + " ms after its guest started");

    // Switching the stuck driver back at run time lets it finish.
    lab.setDriverMode("stuck", DriverMode.DRIVER_MODE_ENABLED);
    await("the unstuck driver reaches its target").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
        .until(() -> lab.vm("stuck").getBalloon().getSizePages() == target);
    assertFalse(lab.vm("stuck").getBalloon().getUncooperative());

    for (VmState vm : lab.state().getVmsList()) {
      assertEquals(0, vm.getGuest().getIntegrityViolations(), vm.getName());
      assertEquals(0, vm.getGuest().getIsolationViolations(), vm.getName());
      assertTrue(vm.getCounters().getAccesses() > 0, vm.getName() + " ran");
    }
  }

  private static String[] concat(String[] a, String... b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
