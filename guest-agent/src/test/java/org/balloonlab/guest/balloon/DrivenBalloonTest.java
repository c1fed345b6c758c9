package org.balloonlab.guest.balloon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.function.LongSupplier;
import org.balloonlab.balloon.driver.BalloonDriver;
import org.balloonlab.balloon.driver.BalloonHost;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.domain.kernel.MemoryStats;
import org.balloonlab.guest.os.FakePhysicalMemory;
import org.balloonlab.guest.os.GuestCosts;
import org.balloonlab.guest.os.GuestCounters;
import org.balloonlab.guest.os.GuestOs;
import org.balloonlab.guest.os.PageTableEvent;
import org.balloonlab.guest.os.PhysicalMemory;
import org.balloonlab.guest.vcpu.FakeLabClock;
import org.balloonlab.guest.vcpu.Vcpu;
import org.balloonlab.guest.workload.WorkloadSpec;
import org.balloonlab.swap.SwapDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The balloon driver driven by a lockstep vCPU, as a guest on the lab clock runs it: rounds at simulated instants,
 * the doorbell from the grant, every call to the hypervisor made with nothing in flight (deflate-on-OOM included),
 * and the same calls at the same quanta on every run.
 */
class DrivenBalloonTest {
  static final long MS = 1_000_000;
  static final int VM = 3;

  @TempDir
  Path dir;

  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  /** A fake memory that counts what was queued since the last drain, as the access stream would hold in flight. */
  static final class PipelineMemory implements PhysicalMemory {
    private final FakePhysicalMemory inner;
    private int inFlight;

    PipelineMemory(FakePhysicalMemory inner) {
      this.inner = inner;
    }

    int inFlight() {
      return inFlight;
    }

    @Override
    public void write(int pfn, long token) {
      inFlight++;
      inner.write(pfn, token);
    }

    @Override
    public void read(int pfn, long expected) {
      inFlight++;
      inner.read(pfn, expected);
    }

    @Override
    public void write(int asid, int vpn, int pfn, long token) {
      inFlight++;
      inner.write(asid, vpn, pfn, token);
    }

    @Override
    public void read(int asid, int vpn, int pfn, long expected) {
      inFlight++;
      inner.read(asid, vpn, pfn, expected);
    }

    @Override
    public void pageTableEvent(PageTableEvent event, int asid, int vpn, int pfn) {
      inFlight++;
      inner.pageTableEvent(event, asid, vpn, pfn);
    }

    @Override
    public void readForSwapOut(int[] pfns, long[] expected, int count, long[] values) {
      inner.readForSwapOut(pfns, expected, count, values);
      inFlight = 0;
    }

    @Override
    public void flush() {
      inner.flush();
      inFlight = 0;
    }

    @Override
    public void report(GuestStatus status) {
      inner.report(status);
    }

    @Override
    public long hypervisorNs() {
      return inner.hypervisorNs();
    }

    @Override
    public void close() {
      inner.close();
    }
  }

  /**
   * The hypervisor's balloon service in memory: locks every page offered, unlocks every page asked, a target the
   * test sets. Each call is logged with the quantum it came in, and refused (counted) if the memory had accesses in
   * flight.
   */
  static final class SequencedHost implements BalloonHost {
    private final PipelineMemory memory;
    private final LongSupplier quantum;
    private final BitSet locked = new BitSet();
    long target;
    final List<String> calls = new ArrayList<>();
    final List<String> violations = new ArrayList<>();

    SequencedHost(PipelineMemory memory, LongSupplier quantum) {
      this.memory = memory;
      this.quantum = quantum;
    }

    private Target call(String what) {
      if (memory.inFlight() > 0) {
        violations.add(what + " with " + memory.inFlight() + " accesses in flight");
      }
      calls.add(what + "@" + quantum.getAsLong());
      return new Target(target, false, null);
    }

    @Override
    public Session start() {
      return new Session(1, 512, true, true, true, call("Start"));
    }

    @Override
    public Target getTarget(long sessionId, long balloonPages) {
      return call("GetTarget");
    }

    @Override
    public Target lock(long sessionId, long requestId, int[] pfns, int count, PageStatus[] statuses) {
      for (int i = 0; i < count; i++) {
        locked.set(pfns[i]);
        statuses[i] = PageStatus.OK;
      }
      return call("Lock");
    }

    @Override
    public Target unlock(long sessionId, long requestId, int[] pfns, int count, PageStatus[] statuses) {
      for (int i = 0; i < count; i++) {
        statuses[i] = locked.get(pfns[i]) ? PageStatus.OK : PageStatus.NOT_LOCKED;
        locked.clear(pfns[i]);
      }
      return call("Unlock");
    }

    @Override
    public Target reportStats(long sessionId, MemoryStats stats) {
      return call("Stats");
    }

    @Override
    public AutoCloseable listenDoorbell(long sessionId, Runnable ring) {
      throw new AssertionError("a driven driver listens to no doorbell stream");
    }
  }

  /** One guest on the lab clock with a driven driver, as GuestAgentCommand wires it. */
  private final class Guest {
    final GuestCounters counters = new GuestCounters();
    final PipelineMemory memory;
    final GuestOs os;
    final FakeLabClock clock;
    final Vcpu vcpu;
    final SequencedHost host;
    final BalloonDriver driver;

    Guest(String name, int pages, int swapSlots, int quanta, long pollMs, String workload, Long... doorbells) {
      memory = new PipelineMemory(new FakePhysicalMemory(pages, GuestOs.checkerFor(VM, counters)));
      os = new GuestOs(VM, pages, memory, new SwapDevice(dir.resolve(name + ".swap"), swapSlots),
          new GuestCosts(10, 1_000, 20_000, 20_000), counters);
      closeables.add(os);
      clock = new FakeLabClock(0, 10 * MS, quanta, false, doorbells).checkDrained(() -> memory.inFlight() == 0);
      vcpu = new Vcpu(os, new Vcpu.Options(50, 100 * MS, MS, 0, 0, 1), clock);
      vcpu.start(name + "-p", WorkloadSpec.parse(workload).create());
      host = new SequencedHost(memory, clock::current);
      driver = BalloonDriver.driven(new GuestBalloonKernel(os, vcpu), new DrainedBalloonHost(host, memory),
          BalloonDriver.Config.defaults(name).withPollInterval(Duration.ofMillis(pollMs)), () -> 0.5);
      vcpu.atQuantumStart(driver::runDue);
      driver.start();
    }

    void run() {
      vcpu.run();
      driver.stop();
      assertEquals(List.of(), host.violations, "balloon calls with accesses in flight");
      assertEquals(List.of(), clock.violations());
      assertEquals(0, counters.integrityViolations());
    }
  }

  @Test
  void roundsRunAtTheQuantaWhereThePollIntervalOrTheDoorbellFalls() {
    Guest g = new Guest("vm1", 256, 512, 20, 50, "idle:footprint=64KiB", 8L);
    g.host.target = 50;

    g.run();

    List<Integer> targetsAt = new ArrayList<>();
    for (String call : g.host.calls) {
      if (call.startsWith("GetTarget@")) {
        targetsAt.add(Integer.parseInt(call.substring("GetTarget@".length())));
      }
    }
    // Rounds at 0 and 50 ms (quanta 1 and 6), the doorbell at quantum 8 (70 ms), then polls 50 ms after it.
    assertEquals(List.of(1, 6, 8, 13, 18), targetsAt);
    assertEquals(50, g.driver.size());
    assertEquals(50, g.os.balloonPages());
    assertEquals(1, g.driver.stats().doorbellRings());
  }

  @Test
  void deflateOnOomInsideAFaultDrainsThePipelineBeforeItsUnlock() {
    // 64 pages, a balloon of 40, and a process that writes 64 pages with 8 slots of swap: only the balloon can
    // give it room, from inside a fault, with the fault's own events queued.
    Guest g = new Guest("vm1", 64, 8, 10, 1_000, "sequential:footprint=160KiB,writes=1,passes=1");
    g.host.target = 40;

    g.run();

    assertTrue(g.driver.stats().oomPages() > 0, "the guest took pages back from the balloon");
    assertTrue(g.host.calls.stream().anyMatch(c -> c.startsWith("Unlock@")));
    assertEquals(40, g.counters.accesses(), "every page written");
  }

  @Test
  void theSameGuestMakesTheSameBalloonCallsInTheSameQuantaEveryRun() {
    List<String> first = runBusyGuest("vm1");
    List<String> second = runBusyGuest("vm2");
    assertEquals(first, second);
    assertTrue(first.size() > 10);
  }

  private List<String> runBusyGuest(String name) {
    Guest g = new Guest(name, 128, 512, 40, 20, "hotset:footprint=768KiB,writes=0.7", 5L, 17L, 30L);
    g.host.target = 60;
    g.run();
    List<String> log = new ArrayList<>(g.host.calls);
    for (FakeLabClock.Done d : g.clock.dones()) {
      log.add(d.quantum() + ":" + d.vmTimeNs());
    }
    return log;
  }
}
