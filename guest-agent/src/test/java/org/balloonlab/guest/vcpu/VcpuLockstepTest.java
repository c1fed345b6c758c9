package org.balloonlab.guest.vcpu;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.guest.os.FakePhysicalMemory;
import org.balloonlab.guest.os.GuestCosts;
import org.balloonlab.guest.os.GuestCounters;
import org.balloonlab.guest.os.GuestOs;
import org.balloonlab.guest.os.PhysicalMemory;
import org.balloonlab.guest.vcpu.FakeLabClock.Done;
import org.balloonlab.guest.workload.WorkloadSpec;
import org.balloonlab.swap.SwapDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The vCPU on the lab clock, over a fake link: quanta, simulated idle time, reports, pacing and leaving. */
class VcpuLockstepTest {
  static final int VM = 4;
  static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
  static final GuestCosts COSTS = new GuestCosts(10, 1_000, 20_000, 20_000);
  /** The boundary where the VM joins: a VM that joins a running lab starts there, not at 0. */
  static final long JOIN = 70 * MS;

  @TempDir
  Path dir;

  private final GuestCounters counters = new GuestCounters();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private GuestOs os;
  private Thread background;

  @AfterEach
  void tearDown() throws Exception {
    if (background != null) {
      background.join(TimeUnit.SECONDS.toMillis(5));
      assertFalse(background.isAlive(), "the vCPU stopped");
    }
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private GuestOs boot(PhysicalMemory memory, int pages, String swapName) {
    os = new GuestOs(VM, pages, memory, new SwapDevice(dir.resolve(swapName), 1024), COSTS, counters);
    closeables.add(os);
    closeables.add(memory);
    return os;
  }

  private GuestOs boot() {
    return boot(new FakePhysicalMemory(64, GuestOs.checkerFor(VM, counters)), 64, "guest.swap");
  }

  private static Vcpu.Options options(long reportEvery, long maxAccesses, long duration) {
    return new Vcpu.Options(50, reportEvery, MS, maxAccesses, duration, 1);
  }

  @Test
  void anIdleGuestEndsEveryQuantumExactlyAtItsEndAndLeavesWithAFinalReport() {
    boot();
    FakeLabClock clock = new FakeLabClock(JOIN, 10 * MS, 5, false);
    Vcpu cpu = new Vcpu(os, options(TimeUnit.HOURS.toNanos(1), 0, 0), clock);
    cpu.start("idle", WorkloadSpec.parse("idle:footprint=32KiB").create());

    cpu.run();

    List<Done> dones = clock.dones();
    assertEquals(6, dones.size(), "five quanta, then leaving between quanta");
    for (int q = 1; q <= 5; q++) {
      Done d = dones.get(q - 1);
      assertEquals(q, d.quantum());
      assertEquals(clock.endOf(q), d.vmTimeNs(), "idle time runs exactly to the quantum's end");
      assertFalse(d.leaving());
    }
    assertEquals(8, counters.accesses(), "the footprint touched once, then nothing");
    assertEquals(50 * MS, os.clockNs(), "five quanta of simulated time, idle almost all of it");
    Done last = dones.get(5);
    assertTrue(last.leaving());
    assertEquals(5, last.quantum(), "leaving between quanta names the last quantum granted");
    assertEquals(clock.endOf(5), last.vmTimeNs());
    assertNotNull(last.report());
    assertTrue(last.report().workloadDone());
    assertEquals(List.of(), clock.violations);
  }

  @Test
  void aBusyGuestRunsPastEachEndByLessThanASliceAndAnswersWithItsExactClock() {
    boot();
    FakeLabClock clock = new FakeLabClock(JOIN, MS, 4, false);
    Vcpu cpu = new Vcpu(os, options(0, 0, 0), clock);
    cpu.start("p", WorkloadSpec.parse("uniform:footprint=128KiB,writes=0.5").create());

    cpu.run();

    for (Done d : clock.dones().subList(0, 4)) {
      long end = clock.endOf(d.quantum());
      assertTrue(d.vmTimeNs() >= end, "quantum " + d.quantum() + " ran to its end");
      assertTrue(d.vmTimeNs() < end + 50 * (COSTS.memoryAccessNs() + COSTS.pageFaultNs()),
          "and past it by one slice at most");
      assertEquals(d.vmTimeNs() - JOIN, d.report().simulatedNs(), "the report is taken after the drain");
    }
  }

  @Test
  void aVmAlreadyPastTheEndAnswersAtOnceAndKeepsTheDoorbellForLater() {
    FakePhysicalMemory memory = new FakePhysicalMemory(64, GuestOs.checkerFor(VM, counters));
    boot(memory, 64, "guest.swap");
    FakeLabClock clock = new FakeLabClock(0, 10 * MS, 4, false, 2L);
    Vcpu cpu = new Vcpu(os, options(0, 0, 0), clock);
    cpu.start("idle", WorkloadSpec.parse("idle:footprint=32KiB").create());
    List<long[]> starts = new ArrayList<>();
    cpu.atQuantumStart((vmTime, doorbell) -> {
      starts.add(new long[] {vmTime, doorbell ? 1 : 0});
      if (starts.size() == 1) {
        // Hidden faults cost the VM 25 ms at once: it is past the end of the first quantum and the second.
        memory.setHypervisorNs(25 * MS);
      }
    });

    cpu.run();

    List<Done> dones = clock.dones();
    assertEquals(25 * MS, dones.get(0).vmTimeNs());
    assertEquals(25 * MS, dones.get(1).vmTimeNs(), "quantum 2 answered at once: the VM is already past it");
    assertEquals(30 * MS, dones.get(2).vmTimeNs());
    assertEquals(40 * MS, dones.get(3).vmTimeNs());
    assertEquals(3, starts.size(), "no kernel work in a quantum the VM does not run");
    assertEquals(25 * MS, starts.get(1)[0], "quantum 3 starts where the VM's clock is");
    assertEquals(1, starts.get(1)[1], "with the doorbell rung at quantum 2");
    assertEquals(0, starts.get(2)[1], "rung once");
    assertEquals(8, counters.accesses(), "the footprint was touched in quantum 3");
  }

  @Test
  void reportsAreDueOnSimulatedTimeAndExact() {
    boot();
    FakeLabClock clock = new FakeLabClock(JOIN, 10 * MS, 8, false);
    Vcpu cpu = new Vcpu(os, options(25 * MS, 0, 0), clock);
    cpu.start("idle", WorkloadSpec.parse("idle:footprint=32KiB").create());

    cpu.run();

    List<Long> reportedAt = new ArrayList<>();
    for (Done d : clock.dones()) {
      if (d.report() != null && !d.leaving()) {
        reportedAt.add(d.quantum());
        assertEquals(d.vmTimeNs() - JOIN, d.report().simulatedNs());
        assertEquals(8, d.report().accesses());
      }
    }
    assertEquals(List.of(1L, 3L, 5L, 8L), reportedAt, "due at 0, 25, 50 and 75 ms: the first quantum ending there");
  }

  @Test
  void theDurationEndsTheRunAtThatSimulatedTime() {
    boot();
    FakeLabClock clock = new FakeLabClock(JOIN, 10 * MS, 100, false);
    Vcpu cpu = new Vcpu(os, options(TimeUnit.HOURS.toNanos(1), 0, 35 * MS), clock);
    cpu.start("idle", WorkloadSpec.parse("idle:footprint=32KiB").create());

    cpu.run();

    List<Done> dones = clock.dones();
    assertEquals(4, dones.size());
    Done last = dones.get(3);
    assertTrue(last.leaving(), "the fourth quantum is the last");
    assertEquals(JOIN + 35 * MS, last.vmTimeNs(), "idle up to the duration, not to the quantum's end");
    assertTrue(last.report().workloadDone());
  }

  @Test
  void theAccessLimitEndsTheRunInTheQuantumThatReachesIt() {
    boot();
    FakeLabClock clock = new FakeLabClock(0, MS, 100, false);
    Vcpu cpu = new Vcpu(os, options(TimeUnit.HOURS.toNanos(1), 1_000, 0), clock);
    cpu.start("p", WorkloadSpec.parse("hotset:footprint=64KiB").create());

    cpu.run();

    Done last = clock.dones().get(clock.dones().size() - 1);
    assertTrue(last.leaving());
    assertEquals(1_000, last.report().accesses());
    assertEquals(last.quantum(), clock.grants.size(), "it leaves in the quantum it ran, not after");
  }

  @Test
  void aPacedProcessMakesItsShareOfAccessesPerSimulatedSecondAndIdlesTheRest() {
    boot();
    FakeLabClock clock = new FakeLabClock(JOIN, 10 * MS, 10, false);
    Vcpu cpu = new Vcpu(os, options(TimeUnit.HOURS.toNanos(1), 0, 0), clock);
    cpu.start("paced", WorkloadSpec.parse("uniform:footprint=64KiB,rate=1000").create());

    cpu.run();

    assertEquals(100, counters.accesses(), "1000 a second for 100 ms");
    for (Done d : clock.dones().subList(0, 10)) {
      assertEquals(clock.endOf(d.quantum()), d.vmTimeNs(), "asleep at the end of every quantum");
    }
  }

  @Test
  void aScheduledWorkloadIdlesThenWorksOnSimulatedTime() {
    boot();
    FakeLabClock clock = new FakeLabClock(0, 10 * MS, 10, false);
    Vcpu cpu = new Vcpu(os, options(10 * MS, 0, 0), clock);
    cpu.start("later", WorkloadSpec.parse("uniform:footprint=64KiB,rate=1000,schedule=idle:50ms/active").create());

    cpu.run();

    assertEquals(50, counters.accesses(), "1000 a second over its 50 ms of activity, no burst for the idle half");
    int idleReports = 0;
    for (Done d : clock.dones()) {
      if (d.report() != null && d.vmTimeNs() <= 50 * MS) {
        assertEquals(0, d.report().accesses(), "no access while idle, at " + d.vmTimeNs());
        idleReports++;
      }
    }
    assertTrue(idleReports >= 4, "reports from the idle half: " + idleReports);
  }

  @Test
  void aPacedProcessBehindItsRateWhenItsScheduleTurnsIdleSleepsUntilTheNextSwitch() {
    boot();
    FakeLabClock clock = new FakeLabClock(0, 10 * MS, 10, false);
    Vcpu cpu = new Vcpu(os, options(10 * MS, 0, 0), clock);
    // A rate far beyond what the vCPU makes in 20 ms: the process is behind its share when it turns idle.
    cpu.start("behind", WorkloadSpec.parse("uniform:footprint=64KiB,rate=1000000000,schedule=active:20ms/idle:50ms"
        + "/active").create());
    background = new Thread(cpu);
    background.start();
    await("the vCPU ends its ten quanta").atMost(Duration.ofSeconds(20)).until(() -> !background.isAlive());
    assertTrue(clock.dones().size() >= 10, "every quantum ended, none spun in place: " + clock.dones().size());
    long atIdle = -1;
    for (Done d : clock.dones()) {
      if (d.report() != null && d.vmTimeNs() >= 30 * MS && d.vmTimeNs() <= 70 * MS) {
        atIdle = atIdle < 0 ? d.report().accesses() : atIdle;
        assertEquals(atIdle, d.report().accesses(), "no access while idle, at " + d.vmTimeNs());
      }
    }
    assertTrue(counters.accesses() > atIdle, "it works again after 70 ms");
  }

  @Test
  void aScheduleThatRepeatsSwitchesAtTheSameInstantsEveryCycle() {
    boot();
    FakeLabClock clock = new FakeLabClock(0, 10 * MS, 10, false);
    Vcpu cpu = new Vcpu(os, options(10 * MS, 0, 0), clock);
    cpu.start("cycling", WorkloadSpec.parse("hotset:footprint=64KiB,rate=2000,schedule=active:20ms/idle:30ms")
        .create());

    cpu.run();

    // Active 0-20 ms and 50-70 ms: 40 ms at 2000 a second.
    assertEquals(80, counters.accesses());
  }

  @Test
  void aPacedProcessBesideABusyOneKeepsItsPace() {
    boot();
    FakeLabClock clock = new FakeLabClock(0, MS, 10, false);
    Vcpu cpu = new Vcpu(os, options(TimeUnit.HOURS.toNanos(1), 0, 0), clock);
    cpu.start("busy", WorkloadSpec.parse("hotset:footprint=64KiB").create());
    List<Integer> paced = new ArrayList<>();
    cpu.start("paced", new VcpuTest.Recording(WorkloadSpec.parse("sequential:footprint=64KiB,rate=10000").create(),
        1, paced));

    cpu.run();

    // Access n is due at n x 100 us. The last pass may run a little past 10 ms (a slice of the busy process), and
    // the paced one then has what is due at that time.
    long end = os.clockNs();
    assertTrue(end >= 10 * MS);
    assertEquals(end / 100_000 + 1, paced.size(), "10 000 a second, however busy the other process");
    assertTrue(paced.size() == 100 || paced.size() == 101, "for 10 ms: " + paced.size());
    assertTrue(counters.accesses() > 10_000, "the busy one had the rest of the vCPU");
  }

  @Test
  void aStopWhileTheClockIsHeldLeavesWithAFinalReport() {
    boot();
    FakeLabClock clock = new FakeLabClock(JOIN, 10 * MS, 2, true);
    Vcpu cpu = new Vcpu(os, options(TimeUnit.HOURS.toNanos(1), 0, 0), clock);
    cpu.start("idle", WorkloadSpec.parse("idle:footprint=32KiB").create());
    background = new Thread(cpu, "vcpu");
    background.start();
    await().atMost(Duration.ofSeconds(5)).until(() -> clock.dones().size() == 2);
    assertFalse(clock.dones().get(1).leaving(), "held at the end of quantum 2, the guest waits");

    cpu.stop();

    await().atMost(Duration.ofSeconds(5)).until(() -> clock.dones().size() == 3);
    Done leaving = clock.dones().get(2);
    assertTrue(leaving.leaving());
    assertEquals(2, leaving.quantum());
    assertEquals(clock.endOf(2), leaving.vmTimeNs());
    GuestStatus report = leaving.report();
    assertTrue(report.workloadDone());
    assertEquals(20 * MS, report.simulatedNs());
  }

  /**
   * The determinism property: the same guest, run twice over a memory whose answers come after random real delays
   * (a different distribution each run), ends the same quanta at the same VM times with the same reports.
   */
  @Test
  void twoRunsWithDifferentThreadTimingAnswerEveryQuantumTheSame() {
    List<Done> first = runLaggingGuest(11, 0);
    List<Done> second = runLaggingGuest(12, 200);
    assertEquals(first, second);
    assertTrue(first.size() > 20);
    assertTrue(first.stream().filter(d -> d.report() != null).count() > 3);
  }

  private List<Done> runLaggingGuest(long delaySeed, long maxDelayMicros) {
    GuestCounters c = new GuestCounters();
    LaggingMemory memory = new LaggingMemory(32, GuestOs.checkerFor(VM, c), delaySeed, maxDelayMicros);
    // Cheap faults and swap I/O, so the hypervisor's share (30 ns an access) weighs on where quanta end.
    GuestOs guest = new GuestOs(VM, 32, memory, new SwapDevice(dir.resolve("lag-" + delaySeed + ".swap"), 1024),
        new GuestCosts(10, 100, 300, 300), c);
    closeables.add(guest);
    closeables.add(memory);
    FakeLabClock clock = new FakeLabClock(JOIN, 20_000, 100, false).checkDrained(memory::drained);
    Vcpu cpu = new Vcpu(guest, new Vcpu.Options(40, 300_000, MS, 0, 0, 9), clock);
    // Twice the guest's memory: it reclaims, and its swap-out reads drain the pipeline mid-quantum.
    cpu.start("hot", WorkloadSpec.parse("hotset:footprint=256KiB").create());
    cpu.start("paced", WorkloadSpec.parse("uniform:footprint=64KiB,rate=200000").create());
    cpu.start("idle", WorkloadSpec.parse("idle:footprint=16KiB").create());
    cpu.run();
    assertEquals(List.of(), clock.violations);
    assertEquals(0, c.integrityViolations());
    assertTrue(c.pageOuts() > 0);
    return clock.dones();
  }
}
