package org.balloonlab.guest.vcpu;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.guest.os.FakePhysicalMemory;
import org.balloonlab.guest.os.GuestCosts;
import org.balloonlab.guest.os.GuestCounters;
import org.balloonlab.guest.os.GuestOs;
import org.balloonlab.guest.os.GuestProcess;
import org.balloonlab.guest.workload.Workload;
import org.balloonlab.guest.workload.WorkloadSpec;
import org.balloonlab.swap.SwapDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The vCPU over a fake memory: round robin, limits, reports and the end of the run. */
class VcpuTest {
  static final int VM = 2;
  static final long HOUR_NS = TimeUnit.HOURS.toNanos(1);

  @TempDir
  Path dir;

  private GuestCounters counters;
  private FakePhysicalMemory mem;
  private GuestOs os;
  private Thread background;

  @BeforeEach
  void boot() {
    counters = new GuestCounters();
    mem = new FakePhysicalMemory(64, GuestOs.checkerFor(VM, counters));
    os = new GuestOs(VM, 64, mem, new SwapDevice(dir.resolve("guest.swap"), 1024),
        new GuestCosts(10, 1_000, 20_000, 20_000), counters);
  }

  @AfterEach
  void shutDown() throws InterruptedException {
    if (background != null) {
      background.interrupt();
      background.join(TimeUnit.SECONDS.toMillis(5));
    }
    os.close();
  }

  /** A workload that tells which process asked for each access. */
  static final class Recording implements Workload {
    private final Workload inner;
    private final int id;
    private final List<Integer> log;

    Recording(Workload inner, int id, List<Integer> log) {
      this.inner = inner;
      this.id = id;
      this.log = log;
    }

    @Override
    public long next(SplittableRandom random) {
      long a = inner.next(random);
      if (a >= 0) {
        log.add(id);
      }
      return a;
    }

    @Override
    public int footprintPages() {
      return inner.footprintPages();
    }

    @Override
    public String describe() {
      return inner.describe();
    }

    @Override
    public long ratePerSecond() {
      return inner.ratePerSecond();
    }
  }

  private static Vcpu.Options options(int slice, long maxAccesses) {
    return new Vcpu.Options(slice, HOUR_NS, TimeUnit.MILLISECONDS.toNanos(1), maxAccesses, 0, 1);
  }

  @Test
  void runsProcessesRoundRobinUntilMaxAccesses() {
    Vcpu cpu = new Vcpu(os, options(10, 1_000));
    List<Integer> order = new ArrayList<>();
    WorkloadSpec spec = WorkloadSpec.parse("uniform:footprint=256KiB");
    for (int i = 0; i < 3; i++) {
      cpu.start("p" + i, new Recording(spec.create(), i, order));
    }
    assertEquals(null, cpu.lastStatus(), "not finished: not even a first report");

    cpu.run();

    assertTrue(cpu.lastStatus().workloadDone());
    assertEquals(1_000, counters.accesses(), "stopped exactly at the limit");
    assertEquals(1_000, order.size());
    for (int i = 0; i < order.size(); i++) {
      assertEquals((i / 10) % 3, order.get(i), "access " + i + " comes from the process whose slice it is");
    }
    assertEquals(100, counters.contextSwitches(), "one switch per slice of 10");
    GuestStatus s = cpu.lastStatus();
    assertNotNull(s);
    assertEquals(1_000, s.accesses());
    assertEquals(100, s.contextSwitches());
    assertTrue(s.workloadDone(), "the final report says done");
    assertTrue(s.workload().startsWith("3 processes, uniform"), s.workload());
    assertEquals(os.simulatedNs(), s.simulatedNs());
    assertTrue(mem.flushes >= 1, "the run ends with a flush");
    assertFalse(mem.reports.isEmpty());
    assertEquals(s, mem.reports.get(mem.reports.size() - 1), "the last status went to the hypervisor too");
    for (GuestProcess p : os.processes()) {
      assertFalse(p.exited(), "a limit does not end the processes");
    }
    assertEquals(0, counters.integrityViolations());
    assertEquals(0, counters.isolationViolations());
  }

  @Test
  void stopsWhenEveryWorkloadIsDone() {
    Vcpu cpu = new Vcpu(os, options(10, 0));
    GuestProcess a = cpu.start("a", WorkloadSpec.parse("sequential:footprint=80KiB,passes=1").create());
    GuestProcess b = cpu.start("b", WorkloadSpec.parse("sequential:footprint=140KiB,passes=1").create());

    cpu.run();

    assertTrue(cpu.lastStatus().workloadDone());
    assertEquals(20 + 35, counters.accesses());
    assertTrue(a.exited() && b.exited(), "finished processes exit");
    assertEquals(64, os.freePages(), "and give their memory back");
    assertTrue(counters.contextSwitches() >= 6, "2 slices of a and 4 of b at least");
    assertTrue(cpu.lastStatus().workloadDone());
    assertEquals(55, cpu.lastStatus().accesses());
  }

  @Test
  void verifyAllAfterTheRunAuditsAndReports() {
    Vcpu cpu = new Vcpu(os, options(100, 5_000));
    cpu.start("p", WorkloadSpec.parse("hotset:footprint=1MiB").create()); // 4x memory
    cpu.run();
    int reports = mem.reports.size();
    cpu.verifyAll();
    assertTrue(counters.pageOuts() > 0);
    assertEquals(0, counters.integrityViolations());
    assertEquals(0, counters.isolationViolations());
    assertEquals(reports + 1, mem.reports.size());
    assertTrue(cpu.lastStatus().workloadDone());
  }

  @Test
  void theSameSeedGivesTheSameRun() {
    Vcpu cpu = new Vcpu(os, options(50, 3_000));
    cpu.start("p", WorkloadSpec.parse("uniform:footprint=1MiB").create());
    cpu.run();
    long faults = counters.trueFaults();
    long ns = os.simulatedNs();
    os.close();
    boot();
    Vcpu again = new Vcpu(os, options(50, 3_000));
    again.start("p", WorkloadSpec.parse("uniform:footprint=1MiB").create());
    again.run();
    assertEquals(faults, counters.trueFaults());
    assertEquals(ns, os.simulatedNs());
  }

  @Test
  void aPassedDurationStopsTheRun() {
    Vcpu cpu = new Vcpu(os, new Vcpu.Options(10, HOUR_NS, 1_000_000, 0, 1, 1));
    cpu.start("p", WorkloadSpec.parse("uniform:footprint=64KiB").create());
    cpu.run();
    assertTrue(cpu.lastStatus().workloadDone());
    assertEquals(10, counters.accesses(), "one round of slices, then the duration check");
  }

  @Test
  void anIdleGuestWaitsUntilStoppedAndItsClockStillAdvances() {
    Vcpu cpu = new Vcpu(os, new Vcpu.Options(10, 0, TimeUnit.MILLISECONDS.toNanos(1), 0, 0, 1));
    cpu.start("idle", WorkloadSpec.parse("idle:footprint=32KiB").create());
    background = new Thread(cpu, "vcpu");
    background.start();
    await().atMost(Duration.ofSeconds(5)).until(() -> {
      GuestStatus s = cpu.lastStatus();
      return s != null && s.accesses() == 8 && s.simulatedNs() > 8 * 10 + 8 * 1_000;
    });
    assertFalse(cpu.lastStatus().workloadDone(), "idle is not done");
    cpu.stop();
    await().atMost(Duration.ofSeconds(5)).until(() -> cpu.lastStatus().workloadDone());
    assertEquals(8, counters.accesses());
  }

  @Test
  void runningFreeAnIdleGuestChargesSimulatedIdleTicksUpToItsDuration() {
    long ms = TimeUnit.MILLISECONDS.toNanos(1);
    Vcpu cpu = new Vcpu(os, new Vcpu.Options(10, 5 * ms, ms, 0, 20 * ms, 1));
    cpu.start("idle", WorkloadSpec.parse("idle:footprint=32KiB").create());

    cpu.run();

    assertEquals(20 * ms, os.simulatedNs(), "idle ticks of simulated time, exactly to the duration");
    assertEquals(8, counters.accesses());
    assertTrue(mem.reports.size() >= 5, "a report every 5 ms of simulated time, and the last one");
    assertTrue(cpu.lastStatus().workloadDone());
  }

  @Test
  void runningFreeAPacedProcessKeepsItsRateInSimulatedTime() {
    long ms = TimeUnit.MILLISECONDS.toNanos(1);
    Vcpu cpu = new Vcpu(os, new Vcpu.Options(10, HOUR_NS, ms, 0, 10 * ms, 1));
    cpu.start("paced", WorkloadSpec.parse("uniform:footprint=64KiB,rate=10000").create());

    cpu.run();

    assertEquals(100, counters.accesses(), "one every 100 us for 10 ms");
    assertEquals(10 * ms, os.simulatedNs());
  }

  @Test
  void optionsRefuseNegativeTimes() {
    assertThrows(IllegalArgumentException.class, () -> new Vcpu.Options(1, -1, 1, 0, 0, 1));
    assertThrows(IllegalArgumentException.class, () -> new Vcpu.Options(1, 1, 0, 0, 0, 1));
    assertThrows(IllegalArgumentException.class, () -> new Vcpu.Options(1, 1, 1, 0, -5, 1));
  }

  @Test
  void aSliceNeedsAnAccess() {
    assertThrows(IllegalArgumentException.class, () -> new Vcpu.Options(0, 1, 1, 0, 0, 1));
  }
}
