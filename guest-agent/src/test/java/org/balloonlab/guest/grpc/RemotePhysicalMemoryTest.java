package org.balloonlab.guest.grpc;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ForwardingServerBuilder;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.guest.os.GuestCosts;
import org.balloonlab.guest.os.GuestCounters;
import org.balloonlab.guest.os.GuestOs;
import org.balloonlab.guest.os.PhysicalMemory;
import org.balloonlab.guest.os.Token;
import org.balloonlab.guest.vcpu.Vcpu;
import org.balloonlab.guest.workload.WorkloadSpec;
import org.balloonlab.hypervisor.grpc.HypervisorServer;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.machine.MachineSnapshot;
import org.balloonlab.hypervisor.machine.VmSnapshot;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.proto.MachineServiceGrpc;
import org.balloonlab.proto.PowerOnResponse;
import org.balloonlab.proto.VmState;
import org.balloonlab.swap.SwapDevice;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The guest's data-plane client against a real hypervisor over an in-process transport. */
class RemotePhysicalMemoryTest {
  static final int FRAMES = 128;
  static final int HOST_SLOTS = 8_192;
  static final int MAX_BATCH = 1_024;
  static final Duration BOUND = Duration.ofSeconds(5);

  /** Keeps the server the hypervisor builds, so a test can pull it away from under the guest. */
  static final class CapturingServerBuilder extends ForwardingServerBuilder<CapturingServerBuilder> {
    private final ServerBuilder<?> delegate;
    Server built;

    CapturingServerBuilder(ServerBuilder<?> delegate) {
      this.delegate = delegate;
    }

    @Override
    protected ServerBuilder<?> delegate() {
      return delegate;
    }

    @Override
    public Server build() {
      built = super.build();
      return built;
    }
  }

  /** Records every mismatch and sorts it as the guest OS would. */
  static final class Recorder implements PhysicalMemory.ReadChecker {
    final Queue<long[]> mismatches = new ConcurrentLinkedQueue<>();
    final GuestCounters counters = new GuestCounters();
    private final PhysicalMemory.ReadChecker sorter;

    Recorder(int vmId) {
      sorter = GuestOs.checkerFor(vmId, counters);
    }

    @Override
    public void mismatch(int pfn, long expected, long actual) {
      mismatches.add(new long[] {pfn, expected, actual});
      sorter.mismatch(pfn, expected, actual);
    }
  }

  @TempDir
  Path dir;

  private Machine machine;
  private HypervisorServer hypervisor;
  private Server server;
  private ManagedChannel channel;
  private MachineConnection conn;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    // Without translation costs, so each charge is a P2M fault's alone.
    machine = new Machine(new MachineConfig(FRAMES, HOST_SLOTS, dir.resolve("host.swap"), MAX_BATCH,
        CostModel.DEFAULT.with("tlb-hit=0").with("page-walk-reference=0").with("vm-exit=0"), 11));
    String name = InProcessServerBuilder.generateName();
    CapturingServerBuilder builder = new CapturingServerBuilder(InProcessServerBuilder.forName(name));
    hypervisor = new HypervisorServer(builder, machine, Duration.ofHours(1)).start();
    server = builder.built;
    assertNotNull(server);
    channel = InProcessChannelBuilder.forName(name).build();
    conn = new MachineConnection(channel);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables) {
      try {
        c.close();
      } catch (RuntimeException ignored) {
        // the test may have broken it on purpose
      }
    }
    channel.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
    hypervisor.stop();
    machine.close();
  }

  private RemotePhysicalMemory open(int batch, int window, Recorder checker) {
    RemotePhysicalMemory mem = conn.openMemory(batch, window, checker);
    closeables.add(mem);
    return mem;
  }

  private VmSnapshot vm() {
    return machine.vm(conn.vmId());
  }

  // ---------------------------------------------------------------- values

  @Test
  void writesAndReadsAcrossManyBatchesComeBackIntact() {
    PowerOnResponse vm = conn.powerOn("vm1", "linux", 100);
    Recorder checker = new Recorder(vm.getVmId());
    RemotePhysicalMemory mem = open(64, 2, checker);
    for (int round = 1; round <= 5; round++) {
      for (int pfn = 0; pfn < 100; pfn++) {
        mem.write(pfn, Token.of(vm.getVmId(), 0, pfn, round));
      }
      for (int pfn = 99; pfn >= 0; pfn--) {
        mem.read(pfn, Token.of(vm.getVmId(), 0, pfn, round));
      }
    }
    mem.flush();
    assertTrue(checker.mismatches.isEmpty(), "no read came back wrong");
    assertEquals(1_000, vm().counters().accesses(), "every access reached the hypervisor");
    assertEquals(500, vm().counters().writes());
    assertEquals(500, vm().counters().reads());
  }

  @Test
  void aBatchLargerThanTheHypervisorsLimitIsClipped() {
    PowerOnResponse vm = conn.powerOn("vm1", "linux", 100);
    assertEquals(MAX_BATCH, vm.getMaxBatchAccesses());
    Recorder checker = new Recorder(vm.getVmId());
    RemotePhysicalMemory mem = open(5 * MAX_BATCH, 2, checker);
    for (int i = 0; i < 3 * MAX_BATCH; i++) {
      mem.write(i % 100, Token.of(vm.getVmId(), 0, i % 100, 1 + i / 100));
    }
    mem.flush();
    assertNull(mem.failure());
    assertEquals(3 * MAX_BATCH, vm().counters().accesses());
  }

  @Test
  void readsThatComeBackWrongReachTheChecker() {
    PowerOnResponse vm = conn.powerOn("vm1", "linux", 16);
    int id = vm.getVmId();
    Recorder checker = new Recorder(id);
    RemotePhysicalMemory mem = open(4, 2, checker);
    long mine = Token.of(id, 0, 3, 1);
    long foreign = Token.of(id + 1, 0, 5, 1);
    mem.write(3, mine);
    mem.write(5, foreign); // as if another VM's content had leaked in
    mem.read(3, Token.of(id, 0, 3, 2)); // the guest expected a newer version
    mem.read(4, 0L); // never written: zero, as expected
    mem.read(5, Token.of(id, 0, 5, 1));
    mem.flush();
    assertEquals(2, checker.mismatches.size());
    assertArrayEquals(new long[] {3, Token.of(id, 0, 3, 2), mine}, checker.mismatches.poll());
    assertArrayEquals(new long[] {5, Token.of(id, 0, 5, 1), foreign}, checker.mismatches.poll());
    assertEquals(1, checker.counters.integrityViolations());
    assertEquals(1, checker.counters.isolationViolations());
  }

  @ParameterizedTest(name = "batch {0}, window {1}")
  @CsvSource({"1, 1", "7, 1", "64, 2", "64, 8", "1024, 3"})
  void readForSwapOutReturnsTheCurrentValues(int batch, int window) {
    PowerOnResponse vm = conn.powerOn("vm1", "linux", 100);
    int id = vm.getVmId();
    Recorder checker = new Recorder(id);
    RemotePhysicalMemory mem = open(batch, window, checker);
    for (int pfn = 0; pfn < 100; pfn++) {
      mem.write(pfn, Token.of(id, 0, pfn, 1));
    }
    for (int pfn = 0; pfn < 10; pfn++) {
      mem.write(pfn, Token.of(id, 0, pfn, 2)); // queued, not yet sent: must be applied first
    }
    int[] pfns = new int[100];
    long[] expected = new long[100];
    for (int i = 0; i < 100; i++) {
      pfns[i] = 99 - i;
      expected[i] = Token.of(id, 0, pfns[i], pfns[i] < 10 ? 2 : 1);
    }
    long[] values = new long[100];
    mem.readForSwapOut(pfns, expected, 100, values);
    assertArrayEquals(expected, values);

    long[] one = new long[1];
    mem.write(42, Token.of(id, 0, 42, 3));
    mem.readForSwapOut(new int[] {42}, new long[] {Token.of(id, 0, 42, 3)}, 1, one);
    assertEquals(Token.of(id, 0, 42, 3), one[0]);
    mem.flush();
    assertTrue(checker.mismatches.isEmpty());
    assertEquals(100 + 10 + 100 + 2, vm().counters().accesses());
  }

  @Test
  void flushWaitsForEveryAnswer() {
    PowerOnResponse vm = conn.powerOn("vm1", "linux", 100);
    Recorder checker = new Recorder(vm.getVmId());
    RemotePhysicalMemory mem = open(64, 2, checker);
    for (int i = 0; i < 1_000; i++) {
      mem.read(i % 100, 1L); // every page holds zero: each of these is a mismatch
    }
    mem.flush();
    assertEquals(1_000, checker.mismatches.size(), "every answer was checked before flush returned");
    assertEquals(1_000, vm().counters().accesses());
    assertEquals(vm().counters().hypervisorNs(), mem.hypervisorNs(), "and every charge was received");
  }

  @Test
  void hypervisorTimeGrowsWithDemandZeroFaults() {
    PowerOnResponse vm = conn.powerOn("vm1", "linux", 100);
    RemotePhysicalMemory mem = open(64, 2, new Recorder(vm.getVmId()));
    long perFault = CostModel.DEFAULT.hiddenFaultNs() + CostModel.DEFAULT.zeroFrameNs();
    assertEquals(perFault, vm.getCostModel().getHiddenFaultNs() + vm.getCostModel().getZeroFrameNs());
    assertEquals(0, mem.hypervisorNs());

    mem.write(0, Token.of(vm.getVmId(), 0, 0, 1));
    mem.flush();
    assertEquals(perFault, mem.hypervisorNs(), "the first touch is a demand-zero fault");

    mem.write(0, Token.of(vm.getVmId(), 0, 0, 2));
    mem.read(0, Token.of(vm.getVmId(), 0, 0, 2));
    mem.flush();
    assertEquals(perFault, mem.hypervisorNs(), "a mapped page costs the hypervisor nothing");

    for (int pfn = 1; pfn < 10; pfn++) {
      mem.read(pfn, 0L);
    }
    mem.flush();
    assertEquals(10 * perFault, mem.hypervisorNs());
    assertEquals(10, vm().counters().demandZeroFaults());
    assertEquals(vm().counters().hypervisorNs(), mem.hypervisorNs());
  }

  @Test
  void theDrainedChargesMoveOnlyWhenEveryBatchIsAnswered() {
    PowerOnResponse vm = conn.powerOn("vm1", "linux", 100);
    RemotePhysicalMemory mem = open(4, 8, new Recorder(vm.getVmId()));
    long perFault = CostModel.DEFAULT.hiddenFaultNs() + CostModel.DEFAULT.zeroFrameNs();
    for (int pfn = 0; pfn < 40; pfn++) {
      mem.read(pfn, 0L); // ten full batches of four, sent as they fill
    }
    await().atMost(BOUND).until(() -> mem.hypervisorNs() == 40 * perFault);
    assertEquals(0, mem.drainedHypervisorNs(), "answers arrived, but nothing waited for all of them");

    mem.flush();
    assertEquals(40 * perFault, mem.drainedHypervisorNs());

    mem.read(40, 0L);
    mem.read(41, 0L);
    mem.read(42, 0L);
    mem.read(43, 0L); // a full batch: sent, not waited for
    await().atMost(BOUND).until(() -> mem.hypervisorNs() == 44 * perFault);
    assertEquals(40 * perFault, mem.drainedHypervisorNs());
    long[] values = new long[1];
    mem.readForSwapOut(new int[] {0}, new long[] {0L}, 1, values);
    assertEquals(44 * perFault, mem.drainedHypervisorNs(), "a swap-out read waits for every batch before it");
  }

  @Test
  void guestCostsComeFromTheMachinesCostModel() {
    conn.powerOn("vm1", "linux", 16);
    GuestCosts costs = conn.guestCosts();
    assertEquals(CostModel.DEFAULT.memoryAccessNs(), costs.memoryAccessNs());
    assertEquals(CostModel.DEFAULT.guestPageFaultNs(), costs.pageFaultNs());
    assertEquals(CostModel.DEFAULT.guestSwapReadNs(), costs.swapReadNs());
    assertEquals(CostModel.DEFAULT.guestSwapWriteNs(), costs.swapWriteNs());
  }

  // ---------------------------------------------------------------- a whole guest

  @Test
  void theKernelsOwnAccessesReachTheHypervisorButAreNotActivity() {
    PowerOnResponse vm = conn.powerOn("vm1", "linux", 100);
    int id = vm.getVmId();
    Recorder checker = new Recorder(id);
    RemotePhysicalMemory mem = open(16, 2, checker);
    long period = 30_000_000_000L; // the ESX default the machine runs with
    for (int pfn = 0; pfn < 100; pfn++) {
      mem.write(pfn, Token.of(id, 0, pfn, 1));
    }
    mem.report(status(0)); // the sampler's first period starts here
    // The audit: every page read back, in batches flagged as not the workload's.
    mem.kernelOnly(true);
    for (int pfn = 0; pfn < 100; pfn++) {
      mem.read(pfn, Token.of(id, 0, pfn, 1));
    }
    mem.kernelOnly(false);
    mem.report(status(period));
    mem.flush();
    assertTrue(checker.mismatches.isEmpty(), "the audit's reads were checked and came back intact");
    assertEquals(1, vm().reclamation().samplePeriods());
    assertEquals(0.0, vm().reclamation().activeFraction(), 1e-9, "an audit is not activity");
    for (int pfn = 0; pfn < 100; pfn++) {
      mem.read(pfn, Token.of(id, 0, pfn, 1)); // the workload's reads are
    }
    mem.report(status(2 * period));
    mem.flush();
    assertEquals(0.5, vm().reclamation().activeFast(), 1e-9);
    assertEquals(200, vm().counters().reads(), "both kinds were applied");
  }

  private static GuestStatus status(long simulatedNs) {
    return new GuestStatus(simulatedNs, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "test", false);
  }

  @Test
  void aWholeGuestOnAnOvercommittedMachineKeepsEveryPageIntactAndCountsDoublePaging() {
    PowerOnResponse vm = conn.powerOn("vm1", "linux", 2 * FRAMES); // twice the machine: host paging
    int id = vm.getVmId();
    GuestCounters counters = new GuestCounters();
    RemotePhysicalMemory mem = conn.openMemory(256, 4, GuestOs.checkerFor(id, counters));
    closeables.add(mem);
    try (GuestOs os = new GuestOs(id, 2 * FRAMES, mem, new SwapDevice(dir.resolve("guest.swap"), 4_096),
        conn.guestCosts(), counters)) {
      Vcpu cpu = new Vcpu(os, new Vcpu.Options(500, TimeUnit.HOURS.toNanos(1), 1_000_000, 40_000, 0, 5));
      cpu.start("u", WorkloadSpec.parse("uniform:footprint=1MiB,writes=0.6").create());
      cpu.start("h", WorkloadSpec.parse("hotset:footprint=2MiB").create());
      assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
        cpu.run();
        cpu.verifyAll();
      });

      assertEquals(40_000, counters.accesses());
      assertEquals(0, counters.integrityViolations(), "integrity violations");
      assertEquals(0, counters.isolationViolations(), "isolation violations");
      assertTrue(counters.pageOuts() > 0, "the guest paged");
      assertTrue(counters.majorFaults() > 0);
      MachineSnapshot machineNow = machine.snapshot();
      assertTrue(machineNow.hostPageOuts() > 0, "the hypervisor paged");
      assertTrue(machineNow.doublePaging() > 0, "guest victims the hypervisor had paged out: double paging");
      VmSnapshot v = vm();
      assertEquals(machineNow.doublePaging(), v.counters().doublePaging());
      assertTrue(v.counters().hostSwapInFaults() >= v.counters().doublePaging());
      machine.checkInvariants();

      GuestStatus last = cpu.lastStatus();
      assertTrue(os.simulatedNs() > mem.hypervisorNs() && mem.hypervisorNs() > 0);
      assertNotNull(v.guest(), "the guest's reports reached the hypervisor");
      assertEquals(last.accesses(), v.guest().accesses());

      mem.close();
      VmState state = conn.powerOff();
      assertEquals(machineNow.doublePaging(), state.getCounters().getDoublePaging());
      assertEquals(0, machine.snapshot().vms().size());
    }
  }

  // ---------------------------------------------------------------- attach and failure

  @Test
  void aSecondAttachOfTheSameVmFailsAndTheFirstStreamCarriesOn() {
    PowerOnResponse vm = conn.powerOn("vm1", "linux", 16);
    Recorder checker = new Recorder(vm.getVmId());
    RemotePhysicalMemory first = open(8, 2, checker);
    assertTrue(vm().attached());

    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> open(8, 2, new Recorder(vm.getVmId())));
    assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode(), e.getMessage());

    first.write(1, Token.of(vm.getVmId(), 0, 1, 1));
    first.read(1, Token.of(vm.getVmId(), 0, 1, 1));
    first.flush();
    assertTrue(checker.mismatches.isEmpty());

    first.close();
    assertFalse(vm().attached(), "a clean close detaches");
    RemotePhysicalMemory again = open(8, 2, checker);
    again.read(1, Token.of(vm.getVmId(), 0, 1, 1));
    again.flush();
    assertTrue(checker.mismatches.isEmpty(), "the VM kept its memory across the reattach");
  }

  @Test
  void aWrongCredentialIsRefused() {
    PowerOnResponse vm = conn.powerOn("vm1", "linux", 16);
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> new RemotePhysicalMemory(MachineServiceGrpc.newStub(channel), vm.getVmId(), "not-the-secret", 8, 2,
            new Recorder(vm.getVmId())));
    assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
  }

  @Test
  void aNameInUseIsRefusedAtPowerOn() {
    conn.powerOn("vm1", "linux", 16);
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
        () -> new MachineConnection(channel).powerOn("vm1", "linux", 16));
    assertEquals(Status.Code.ALREADY_EXISTS, e.getStatus().getCode());
  }

  @Test
  void afterTheServerGoesAwayTheNextOperationThrowsInsteadOfHanging() {
    PowerOnResponse vm = conn.powerOn("vm1", "linux", 64);
    Recorder checker = new Recorder(vm.getVmId());
    RemotePhysicalMemory mem = open(16, 2, checker);
    mem.write(0, Token.of(vm.getVmId(), 0, 0, 1));
    mem.flush();

    server.shutdownNow();

    StatusRuntimeException e = assertTimeoutPreemptively(BOUND, () -> assertThrows(StatusRuntimeException.class,
        () -> {
          mem.write(1, Token.of(vm.getVmId(), 0, 1, 1));
          mem.flush();
        }));
    assertNotNull(e.getStatus());
    assertNotNull(mem.failure());
    assertTimeoutPreemptively(BOUND, () -> assertThrows(StatusRuntimeException.class,
        () -> mem.readForSwapOut(new int[] {0}, new long[] {Token.of(vm.getVmId(), 0, 0, 1)}, 1, new long[1])));
    assertTimeoutPreemptively(BOUND, () -> assertThrows(StatusRuntimeException.class, () -> {
      for (int i = 0; i < 64; i++) {
        mem.read(0, Token.of(vm.getVmId(), 0, 0, 1)); // fills a batch: its send fails
      }
    }));
    assertTimeoutPreemptively(BOUND, mem::close);
  }

  @Test
  void theServerGoingAwayWhileTheGuestWaitsForAValueFailsTheWait() {
    PowerOnResponse vm = conn.powerOn("vm1", "linux", 64);
    RemotePhysicalMemory mem = open(16, 2, new Recorder(vm.getVmId()));
    mem.flush();
    server.shutdownNow();
    assertTimeoutPreemptively(BOUND, () -> assertThrows(StatusRuntimeException.class,
        () -> mem.readForSwapOut(new int[] {3}, new long[] {0L}, 1, new long[1])));
  }
}
