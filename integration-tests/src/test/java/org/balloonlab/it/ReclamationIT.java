package org.balloonlab.it;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.balloonlab.guest.cli.GuestAgentCommand;
import org.balloonlab.guest.cli.GuestSummary;
import org.balloonlab.lab.JvmProcess;
import org.balloonlab.proto.ListVmsResponse;
import org.balloonlab.proto.MachineState;
import org.balloonlab.proto.VmState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Automatic reclamation with the hypervisor and guests in separate JVMs: the ESX policy sets balloon targets on
 * its own, falls back to hypervisor paging for a VM whose driver is disabled, moves memory from an idle VM to an
 * active one through the idle memory tax, and keeps every VM at or above its reserved min.
 */
class ReclamationIT {
  private static final int MIB = 256; // pages
  /** Sampling periods of one simulated second, so that activity is estimated within seconds of wall time. */
  private static final String[] FAST_SAMPLING = {"--sample-period", "1s", "--sample-gains", "0.5,0.25"};
  private Lab lab;

  @AfterEach
  void tearDown() throws InterruptedException {
    if (lab != null) {
      lab.close();
    }
  }

  /**
   * Each guest boots with 24MiB it then leaves idle and grows a 16MiB working set over its first accesses: 120MiB
   * touched on a 96MiB machine, 48MiB of it active.
   */
  private static String[] overcommittedGuest(int seed, String... more) {
    List<String> args = new ArrayList<>(List.of("--memory", "48MiB", "--workload", "idle:footprint=24MiB",
        "--workload", "hotset:footprint=16MiB,ramp=20000000", "--seed", Integer.toString(seed), "--duration",
        "1h"));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  @Test
  void threeOvercommittedGuestsSettleByBallooning() throws Exception {
    lab = new Lab("reclamation-balloon");
    lab.startHypervisor(concat(new String[] {"--memory", "96MiB"}, FAST_SAMPLING));
    // Booted together, as a lab's guests are: their boot footprints fit, their working sets then grow together.
    List<JvmProcess> guests = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      guests.add(lab.startGuest("vm" + i, overcommittedGuest(i)));
    }
    for (JvmProcess guest : guests) {
      lab.awaitReady(guest);
    }
    MachineState m0 = lab.state().getMachine();
    assertEquals(144 * MIB, m0.getConfiguredPages(), "1.5x overcommitted");
    assertEquals("esx", m0.getPolicy());

    await("every balloon inflated by the policy").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
        .until(() -> allVms(s -> s.getBalloon().getSizePages() > 0) && totalBalloon() >= 20 * MIB);
    // Settled: free memory stays above the soft threshold, and the hypervisor pages nothing, for seconds on end.
    AtomicLong pageOutsSettled = new AtomicLong(-1);
    await("free memory settles above the soft threshold").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100)).during(Duration.ofSeconds(4))
        .until(() -> {
          MachineState m = lab.state().getMachine();
          long first = pageOutsSettled.compareAndExchange(-1, m.getHostPageOuts());
          if (m.getFreeFrames() < m.getMachineFrames() * 4 / 100 || (first >= 0 && first != m.getHostPageOuts())) {
            pageOutsSettled.set(-1);
            return false;
          }
          return true;
        });

    ListVmsResponse state = lab.state();
    MachineState m = state.getMachine();
    long ballooned = 0;
    for (VmState vm : state.getVmsList()) {
      ballooned += vm.getBalloon().getSizePages();
      assertFalse(vm.getBalloon().getUncooperative(), vm.getName() + "'s driver keeps up");
      assertEquals(0, violations(vm), vm.getName());
      assertTrue(vm.getReclamation().getAllocationTargetPages() < 48 * MIB, vm.getName() + " was given less");
    }
    // The hypervisor pages only while working sets first outgrow free memory faster than balloons inflate (they
    // take the guests' never-touched free pages first, which frees no frame), and then only back to 3 % free.
    assertTrue(ballooned >= 10 * m.getHostPageOuts(),
        "memory was reclaimed mostly by ballooning: " + ballooned + " pages ballooned, " + m.getHostPageOuts()
            + " paged out by the hypervisor");
    assertTrue(m.getFreeStateChanges() > 0, "the free-memory state moved");
    assertTrue(m.getFreeState().equals("high") || m.getFreeState().equals("soft"), m.getFreeState());

    // Pressure falls when a guest leaves: the others' balloons deflate.
    long before = lab.vm("vm1").getBalloon().getSizePages() + lab.vm("vm2").getBalloon().getSizePages();
    guests.get(2).stop(20, java.util.concurrent.TimeUnit.SECONDS);
    await("the remaining balloons deflate").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> lab.vm("vm1").getBalloon().getSizePages() + lab.vm("vm2").getBalloon().getSizePages()
            < before / 2);
  }

  @Test
  void aGuestWithoutItsDriverIsPagedByTheHypervisor() throws Exception {
    lab = new Lab("reclamation-disabled");
    lab.startHypervisor(concat(new String[] {"--memory", "96MiB", "--balloon-stall-timeout", "2s"},
        FAST_SAMPLING));
    // The disabled guest has the fewest shares, so the policy reclaims from it first. Its working set is bigger
    // than its memory, so it pages to its own swap all along: when it picks a page the hypervisor already paged
    // out, the hypervisor must page it back in first (double paging).
    List<JvmProcess> guests = List.of(
        lab.startGuest("vm1", overcommittedGuest(1)),
        lab.startGuest("vm2", overcommittedGuest(2)),
        lab.startGuest("vm3", "--memory", "48MiB", "--shares", "100", "--workload",
            "uniform:footprint=56MiB,ramp=1000000", "--seed", "3", "--duration", "1h", "--balloon", "disabled"));
    for (JvmProcess guest : guests) {
      lab.awaitReady(guest);
    }

    await("vm3 paged by the hypervisor, with double paging").atMost(Duration.ofSeconds(120))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> {
          VmState vm3 = lab.vm("vm3");
          // Past its first few double pagings, so the comparison below is of the steady state, not of the
          // moment it began (the others may have been paged in an emergency before its balloon stalled).
          return vm3.getReclamation().getPolicyPageOuts() > 0 && vm3.getCounters().getDoublePaging() >= 50;
        });
    await("the others balloon").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
        .until(() -> lab.vm("vm1").getBalloon().getSizePages() > 0 && lab.vm("vm2").getBalloon().getSizePages() > 0);

    // Double paging is compared over a window of the steady state, not from boot: before vm3's balloon stalls,
    // the others may be paged in an emergency, and when that began depends on when each guest joined the lab.
    ListVmsResponse start = lab.state();
    long vm3Start = Lab.vm(start, "vm3").getCounters().getDoublePaging();
    await("vm3 double-pages on").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
        .until(() -> lab.vm("vm3").getCounters().getDoublePaging() >= vm3Start + 100);

    ListVmsResponse state = lab.state();
    VmState vm3 = Lab.vm(state, "vm3");
    long vm3Window = vm3.getCounters().getDoublePaging() - vm3Start;
    assertEquals(0, vm3.getBalloon().getSizePages(), "a disabled driver balloons nothing");
    assertTrue(vm3.getBalloon().getTargetPages() > 0, "the policy asked vm3 for memory too");
    assertTrue(vm3.getBalloon().getUncooperative(), "vm3's balloon is shown uncooperative");
    assertTrue(vm3.getHostSwappedPages() > 0, "vm3 has pages in host swap");
    for (String name : List.of("vm1", "vm2")) {
      VmState vm = Lab.vm(state, name);
      assertTrue(vm.getBalloon().getSizePages() > 0, name + " ballooned");
      long window = vm.getCounters().getDoublePaging() - Lab.vm(start, name).getCounters().getDoublePaging();
      assertTrue(window <= vm3Window, name + " double-pages no more than the guest without a driver in the same"
          + " window: " + window + " against vm3's " + vm3Window);
    }
    for (VmState vm : state.getVmsList()) {
      assertEquals(0, violations(vm), vm.getName());
    }
  }

  @Test
  void theIdleMemoryTaxMovesMemoryToTheActiveGuest() throws Exception {
    TaxRun untaxed = runIdleAndActive(0, "reclamation-tau-0");
    TaxRun taxed = runIdleAndActive(0.75, "reclamation-tau-075");
    long frames = 64 * MIB;

    assertTrue(Math.abs(untaxed.activeAllocation - untaxed.idleAllocation) <= frames / 8,
        "with tau = 0 equal shares get about equal memory: active " + untaxed.activeAllocation + ", idle "
            + untaxed.idleAllocation + " pages");
    // A fifth of the machine: the idle VM's balloon no longer counts its pages in host swap as given back twice
    // (Reclaimer), so it holds its allocation and the gap half-way through the active run is about 15.9 MiB of 64
    // (it was above 16 when those pages also went to the active VM).
    assertTrue(taxed.activeAllocation - taxed.idleAllocation >= frames / 5,
        "with tau = 0.75 the active VM gets clearly more: active " + taxed.activeAllocation + ", idle "
            + taxed.idleAllocation + " pages");
    assertTrue(taxed.activeSimulatedNs < untaxed.activeSimulatedNs * 0.7,
        "the active VM finishes in less simulated time with the tax: " + taxed.activeSimulatedNs + " ns vs "
            + untaxed.activeSimulatedNs + " ns without");
  }

  private record TaxRun(long activeAllocation, long idleAllocation, long activeSimulatedNs) {}

  /**
   * Two 48MiB VMs of equal shares on a 64MiB machine: one touches 40MiB at boot and then idles, the other works
   * uniformly over 40MiB for a fixed number of accesses. Answers the allocations half-way through the active
   * VM's work and its simulated time at the end.
   */
  private TaxRun runIdleAndActive(double tau, String name) throws Exception {
    try (Lab run = new Lab(name)) {
      lab = run;
      run.startHypervisor(concat(new String[] {"--memory", "64MiB", "--tau", Double.toString(tau)},
          FAST_SAMPLING));
      run.startReadyGuest("idle", "--memory", "48MiB", "--workload", "idle:footprint=40MiB", "--duration", "1h");
      await("the idle VM booted").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
          .until(() -> run.vm("idle").getMappedPages() >= 40 * MIB);
      long accesses = 6_000_000;
      JvmProcess active = run.startReadyGuest("active", "--memory", "48MiB", "--workload",
          "uniform:footprint=40MiB,ramp=1000000,accesses=" + accesses, "--seed", "7");
      AtomicLong activeAllocation = new AtomicLong();
      AtomicLong idleAllocation = new AtomicLong();
      await("the active VM half-way through").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100))
          .until(() -> {
            ListVmsResponse s = run.state();
            if (s.getVmsCount() < 2) {
              return true; // it finished between two polls: the last allocations seen stand
            }
            activeAllocation.set(Lab.vm(s, "active").getReclamation().getAllocationTargetPages());
            idleAllocation.set(Lab.vm(s, "idle").getReclamation().getAllocationTargetPages());
            return Lab.vm(s, "active").getCounters().getAccesses() >= accesses / 2;
          });
      await("the active VM's workload done").atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(200))
          .until(() -> active.lineStartingWith(GuestAgentCommand.SUMMARY) != null || !active.isAlive());
      String summary = active.lineStartingWith(GuestAgentCommand.SUMMARY);
      assertNotNull(summary, "the active guest printed its summary");
      assertTrue(summary.contains("integrity_violations=0") && summary.contains("isolation_violations=0"), summary);
      assertEquals(0, violations(run.vm("idle")));
      return new TaxRun(activeAllocation.get(), idleAllocation.get(), GuestSummary.count(summary, "simulated_ns"));
    } finally {
      lab = null;
    }
  }

  @Test
  void aVmNeverDropsBelowItsMinAndAMinThatCannotBeReservedIsRefused() throws Exception {
    lab = new Lab("reclamation-min");
    lab.startHypervisor(concat(new String[] {"--memory", "64MiB"}, FAST_SAMPLING));
    lab.startReadyGuest("reserved", "--memory", "48MiB", "--min", "32MiB", "--workload", "idle:footprint=40MiB",
        "--duration", "1h");
    await("the reserved VM booted").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
        .until(() -> lab.vm("reserved").getMappedPages() >= 40 * MIB);
    lab.startReadyGuest("active", "--memory", "48MiB", "--workload", "uniform:footprint=44MiB,ramp=2000000",
        "--duration", "1h");

    // The idle, reserved VM is the policy's first victim, but only down to its min.
    await("memory taken from the reserved VM down to its min").atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> {
          VmState vm = lab.vm("reserved");
          assertTrue(vm.getReclamation().getAllocationTargetPages() >= 32 * MIB);
          assertTrue(vm.getBalloon().getTargetPages() <= 16 * MIB);
          return vm.getReclamation().getAllocationTargetPages() == 32 * MIB;
        });
    // Pages the hypervisor paged out before the balloon took over come back, so it holds its min in frames.
    await("the reserved VM holds its min while the other works").atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(100)).during(Duration.ofSeconds(3))
        .until(() -> lab.vm("reserved").getMappedPages() >= 32 * MIB);
    assertEquals(32 * MIB, lab.state().getMachine().getReservedPages());

    JvmProcess refused = lab.startGuest("greedy", "--memory", "48MiB", "--min", "40MiB", "--workload",
        "idle:footprint=1MiB");
    await("a min the machine cannot reserve is refused").atMost(Duration.ofSeconds(30))
        .until(() -> !refused.isAlive());
    assertEquals(5, refused.process().exitValue(), "the guest exits with the hypervisor's refusal");
    String refusal = Files.readString(lab.logDir().resolve("greedy.err.log"));
    assertTrue(refusal.contains("RESOURCE_EXHAUSTED") && refusal.contains("cannot reserve min"), refusal);
    assertEquals(2, lab.state().getVmsCount(), "nothing changed on the machine");
    for (VmState vm : lab.state().getVmsList()) {
      assertEquals(0, violations(vm), vm.getName());
    }
  }

  private boolean allVms(java.util.function.Predicate<VmState> test) {
    return lab.state().getVmsList().stream().allMatch(test);
  }

  private long totalBalloon() {
    return lab.state().getVmsList().stream().mapToLong(v -> v.getBalloon().getSizePages()).sum();
  }

  private static long violations(VmState vm) {
    return vm.getGuest().getIntegrityViolations() + vm.getGuest().getIsolationViolations();
  }

  private static String[] concat(String[] a, String[] b) {
    String[] all = new String[a.length + b.length];
    System.arraycopy(a, 0, all, 0, a.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}
