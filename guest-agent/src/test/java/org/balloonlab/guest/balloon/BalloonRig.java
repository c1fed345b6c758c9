package org.balloonlab.guest.balloon;

import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.DoubleSupplier;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.awaitility.core.ConditionFactory;
import org.balloonlab.balloon.driver.BalloonDriver;
import org.balloonlab.balloon.grpc.GrpcBalloonHost;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.domain.kernel.BalloonKernel;
import org.balloonlab.domain.kernel.MemoryStats;
import org.balloonlab.domain.kernel.OomNotifier;
import org.balloonlab.guest.grpc.MachineConnection;
import org.balloonlab.guest.grpc.RemotePhysicalMemory;
import org.balloonlab.guest.os.GuestCounters;
import org.balloonlab.guest.os.GuestOs;
import org.balloonlab.guest.os.GuestProcess;
import org.balloonlab.guest.os.PhysicalMemory;
import org.balloonlab.guest.vcpu.Vcpu;
import org.balloonlab.guest.workload.Workload;
import org.balloonlab.hypervisor.grpc.HypervisorServer;
import org.balloonlab.hypervisor.machine.AccessOps;
import org.balloonlab.hypervisor.machine.BalloonSnapshot;
import org.balloonlab.hypervisor.machine.BatchResult;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.machine.Vm;
import org.balloonlab.hypervisor.machine.VmSnapshot;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.proto.DriverMode;
import org.balloonlab.proto.DriverModeRequest;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.PowerOnResponse;
import org.balloonlab.proto.SetBalloonTargetRequest;
import org.balloonlab.proto.SetDriverModeRequest;
import org.balloonlab.proto.VmSelector;
import org.balloonlab.swap.SwapDevice;

/**
 * One VM end to end, in process: a real {@link Machine} behind a real {@link HypervisorServer}; a real guest OS
 * on a real {@link Vcpu} (on its own thread) whose memory is the VM's access stream; and the real
 * {@link BalloonDriver} over {@link GuestBalloonKernel} and {@link GrpcBalloonHost}, on a channel of its own, as
 * {@code GuestAgentCommand} wires them. The test steers the balloon through the ManagementService or the
 * machine, and looks at the guest only from its vCPU ({@link #onGuest}), so the OS stays single-threaded.
 *
 * <p>Two thin recorders sit in the stack without changing its behaviour: {@link RecordingKernel} between the
 * driver and the guest kernel (which PFNs the guest has pinned for the balloon), and {@link RecordingMemory}
 * between the guest OS and the access stream (which PFNs the guest ever touched).
 */
final class BalloonRig implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(10);
  static final int MAX_BATCH = 1_024;
  static final long NEVER = TimeUnit.HOURS.toNanos(1);

  final Machine machine;
  final ManagementServiceGrpc.ManagementServiceBlockingStub management;
  private final HypervisorServer hypervisor;
  private final ManagedChannel dataChannel;
  private final ManagedChannel balloonChannel;
  private final ManagedChannel managementChannel;
  private final Path dir;

  String name;
  PowerOnResponse vm;
  final GuestCounters counters = new GuestCounters();
  RemotePhysicalMemory remote;
  RecordingMemory memory;
  GuestOs os;
  Vcpu vcpu;
  final List<GuestProcess> processes = new ArrayList<>();
  private Thread cpuThread;
  final AtomicReference<Throwable> cpuFailure = new AtomicReference<>();
  RecordingKernel kernel;
  BalloonDriver driver;

  /** A machine of {@code frames} frames whose balloon stall timeout is {@code stallNanos}. */
  static MachineConfig machineConfig(Path dir, int frames, long stallNanos) {
    return new MachineConfig(frames, 8_192, dir.resolve("host.swap"), MAX_BATCH, CostModel.DEFAULT, 7,
        MachineConfig.DEFAULT_BALLOON_BATCH, stallNanos);
  }

  static MachineConfig machineConfig(Path dir, int frames) {
    return machineConfig(dir, frames, MachineConfig.DEFAULT_BALLOON_STALL_NANOS);
  }

  BalloonRig(Path dir, MachineConfig config) throws Exception {
    this.dir = dir;
    this.machine = new Machine(config);
    String server = InProcessServerBuilder.generateName();
    this.hypervisor = new HypervisorServer(InProcessServerBuilder.forName(server), machine, Duration.ofHours(1))
        .start();
    this.dataChannel = InProcessChannelBuilder.forName(server).build();
    this.balloonChannel = InProcessChannelBuilder.forName(server).build();
    this.managementChannel = InProcessChannelBuilder.forName(server).build();
    this.management = ManagementServiceGrpc.newBlockingStub(managementChannel);
  }

  // ------------------------------------------------------------------------------------------ the guest

  /**
   * Powers a VM on and boots its guest: the processes run one workload each, the vCPU starts at once.
   *
   * @param reportEveryNanos how often the vCPU reports (each report sends the accesses queued so far)
   */
  BalloonRig boot(String vmName, int memoryPages, int swapSlots, long reportEveryNanos, Workload... workloads) {
    this.name = vmName;
    MachineConnection conn = new MachineConnection(dataChannel);
    vm = conn.powerOn(vmName, "linux", memoryPages);
    remote = conn.openMemory(256, 4, GuestOs.checkerFor(vm.getVmId(), counters));
    memory = new RecordingMemory(remote, memoryPages);
    SwapDevice swap = new SwapDevice(dir.resolve(vmName + ".swap"), swapSlots);
    os = new GuestOs(vm.getVmId(), memoryPages, memory, swap, conn.guestCosts(), counters);
    vcpu = new Vcpu(os, new Vcpu.Options(500, reportEveryNanos, TimeUnit.MILLISECONDS.toNanos(1), 0, 0, 3));
    for (int i = 0; i < workloads.length; i++) {
      processes.add(vcpu.start(vmName + "-p" + i, workloads[i]));
    }
    cpuThread = new Thread(() -> {
      try {
        vcpu.run();
      } catch (Throwable t) {
        cpuFailure.set(t);
      }
    }, "vcpu-" + vmName);
    cpuThread.setDaemon(true);
    cpuThread.start();
    return this;
  }

  BalloonRig boot(String vmName, int memoryPages, int swapSlots, Workload... workloads) {
    return boot(vmName, memoryPages, swapSlots, TimeUnit.MILLISECONDS.toNanos(10), workloads);
  }

  /** Runs {@code f} on the vCPU, between two time slices, and answers its result. */
  <T> T onGuest(Function<GuestOs, T> f) {
    return vcpu.onCpu(() -> f.apply(os));
  }

  /** Every access queued so far reaches the hypervisor and is answered and checked. */
  void quiesce() {
    onGuest(o -> {
      o.memory().flush();
      return null;
    });
  }

  /** The guest's own figures, read on its vCPU after a flush. */
  record Guest(int balloonPages, int freePages, long accesses, long pageOuts, long zeroPagesDropped,
               long oomDeflations, int swapUsed, long integrityViolations, long isolationViolations) {}

  Guest guest() {
    return onGuest(o -> {
      o.memory().flush();
      GuestCounters c = o.counters();
      return new Guest(o.balloonPages(), o.freePages(), c.accesses(), c.pageOuts(), c.zeroPagesDropped(),
          c.oomDeflations(), o.swapUsedPages(), c.integrityViolations(), c.isolationViolations());
    });
  }

  /** The end-of-run audit: reads back every page of every live process. */
  Guest verifyAll() {
    onGuest(o -> {
      o.verifyAll();
      return null;
    });
    return guest();
  }

  // ------------------------------------------------------------------------------------------ the driver

  static BalloonDriver.Config driverConfig(String vmName) {
    return BalloonDriver.Config.defaults(vmName).withPollInterval(Duration.ofMillis(50));
  }

  BalloonDriver startDriver(BalloonDriver.Config config) {
    return startDriver(config, System::nanoTime, Math::random);
  }

  BalloonDriver startDriver(BalloonDriver.Config config, LongSupplier nanoClock, DoubleSupplier random) {
    kernel = new RecordingKernel(new GuestBalloonKernel(os, vcpu));
    GrpcBalloonHost host = new GrpcBalloonHost(balloonChannel, vm.getVmId(), vm.getCredential());
    driver = new BalloonDriver(kernel, host, config, nanoClock, random);
    driver.start();
    return driver;
  }

  // ------------------------------------------------------------------------------------------ the hypervisor

  VmSnapshot vmSnapshot() {
    return machine.vm(vm.getVmId());
  }

  BalloonSnapshot balloon() {
    return vmSnapshot().balloon();
  }

  /** Sets the balloon target as an operator does, over the ManagementService. */
  void setTarget(long pages) {
    management.setBalloonTarget(SetBalloonTargetRequest.newBuilder()
        .setVm(VmSelector.newBuilder().setName(name))
        .setTargetPages(pages)
        .build());
  }

  /** Asks the driver for a mode, over the ManagementService (it arrives with the next reply or doorbell). */
  void requestMode(DriverMode mode) {
    management.setDriverMode(SetDriverModeRequest.newBuilder()
        .setVm(VmSelector.newBuilder().setName(name))
        .setMode(DriverModeRequest.newBuilder().setMode(mode).setStuckProbability(1.0))
        .build());
  }

  /**
   * A read of {@code pfn} applied straight to the machine, as if the hypervisor's own view of the page were
   * consulted outside the guest's stream. Answers the value read.
   */
  long readOnMachine(int pfn) {
    Vm v = machine.vmByName(name);
    long[] values = new long[1];
    machine.applyBatch(v, 1, new byte[] {AccessOps.READ}, new int[] {pfn}, new long[0], values, new BatchResult());
    return values[0];
  }

  // ------------------------------------------------------------------------------------------ waiting

  static ConditionFactory eventually() {
    return await().atMost(WAIT).pollInterval(Duration.ofMillis(5)).pollDelay(Duration.ZERO);
  }

  void awaitUntil(String what, BooleanSupplier condition) {
    eventually().alias(what).until(condition::getAsBoolean);
  }

  /** Waits until the machine, the driver and the guest all agree that the balloon holds {@code pages}. */
  void awaitBalloon(long pages) {
    eventually().alias("balloon of " + pages + " pages everywhere").until(() ->
        balloon().sizePages() == pages && driver.size() == pages && onGuest(GuestOs::balloonPages) == pages
            && kernel.held().cardinality() == pages);
  }

  /** Waits until the guest made {@code more} accesses past {@code from}. */
  void awaitAccesses(long from, long more) {
    eventually().alias(more + " more accesses").until(() -> onGuest(o -> o.counters().accesses()) >= from + more);
  }

  /** Waits until the driver ran {@code more} rounds past now. */
  void awaitRounds(long more) {
    long from = driver.stats().rounds();
    eventually().alias(more + " more driver rounds").until(() -> driver.stats().rounds() >= from + more);
  }

  boolean cpuAlive() {
    return cpuThread != null && cpuThread.isAlive();
  }

  // ------------------------------------------------------------------------------------------ teardown

  /** Stops the driver, the vCPU, the guest's stream, the channels, the server and the machine, in that order. */
  @Override
  public void close() throws Exception {
    Throwable first = null;
    if (driver != null) {
      try {
        driver.stop();
      } catch (Throwable t) {
        first = t;
      }
    }
    if (vcpu != null) {
      vcpu.stop();
      cpuThread.join(TimeUnit.SECONDS.toMillis(10));
    }
    if (remote != null) {
      try {
        remote.close();
      } catch (Throwable t) {
        first = first == null ? t : first;
      }
    }
    if (os != null) {
      os.close();
    }
    for (ManagedChannel c : List.of(managementChannel, balloonChannel, dataChannel)) {
      c.shutdownNow();
    }
    for (ManagedChannel c : List.of(managementChannel, balloonChannel, dataChannel)) {
      c.awaitTermination(5, TimeUnit.SECONDS);
    }
    hypervisor.stop();
    machine.close();
    if (cpuThread != null && cpuThread.isAlive()) {
      throw new AssertionError("the vCPU did not stop");
    }
    if (first instanceof Exception e) {
      throw e;
    } else if (first instanceof Error e) {
      throw e;
    }
  }

  // ------------------------------------------------------------------------------------------ recorders

  /** Passes everything to the guest kernel and remembers which PFNs it holds pinned for the balloon. */
  static final class RecordingKernel implements BalloonKernel {
    private final BalloonKernel inner;
    private final BitSet held = new BitSet();
    private long allocated;
    private long freed;
    private long oomReleased;

    RecordingKernel(BalloonKernel inner) {
      this.inner = inner;
    }

    synchronized BitSet held() {
      return (BitSet) held.clone();
    }

    synchronized long allocated() {
      return allocated;
    }

    synchronized long freed() {
      return freed;
    }

    synchronized long oomReleased() {
      return oomReleased;
    }

    @Override
    public int allocatePages(int[] out, int count) {
      int n = inner.allocatePages(out, count);
      synchronized (this) {
        for (int i = 0; i < n; i++) {
          if (held.get(out[i])) {
            throw new AssertionError("the guest gave PFN " + out[i] + " to the balloon twice");
          }
          held.set(out[i]);
        }
        allocated += n;
      }
      return n;
    }

    @Override
    public void freePages(int[] pfns, int count) {
      // Recorded first: once the guest shows a page free, the record already does.
      synchronized (this) {
        for (int i = 0; i < count; i++) {
          held.clear(pfns[i]);
        }
        freed += count;
      }
      inner.freePages(pfns, count);
    }

    @Override
    public MemoryStats stats() {
      return inner.stats();
    }

    @Override
    public long totalPages() {
      return inner.totalPages();
    }

    @Override
    public void registerOomNotifier(OomNotifier notifier) {
      inner.registerOomNotifier((out, wanted) -> {
        int n = notifier.releaseForOom(out, wanted);
        synchronized (this) {
          for (int i = 0; i < n; i++) {
            held.clear(out[i]);
          }
          oomReleased += n;
        }
        return n;
      });
    }
  }

  /** Passes everything to the access stream and remembers which PFNs the guest touched. */
  static final class RecordingMemory implements PhysicalMemory {
    private final PhysicalMemory inner;
    private final BitSet touched;
    private final BitSet touchedSinceMark;

    RecordingMemory(PhysicalMemory inner, int pages) {
      this.inner = inner;
      this.touched = new BitSet(pages);
      this.touchedSinceMark = new BitSet(pages);
    }

    /** PFNs touched ever. Call on the vCPU. */
    BitSet touched() {
      return (BitSet) touched.clone();
    }

    /** PFNs touched since the last {@link #mark()}. Call on the vCPU. */
    BitSet touchedSinceMark() {
      return (BitSet) touchedSinceMark.clone();
    }

    void mark() {
      touchedSinceMark.clear();
    }

    private void touch(int pfn) {
      touched.set(pfn);
      touchedSinceMark.set(pfn);
    }

    @Override
    public void write(int pfn, long token) {
      touch(pfn);
      inner.write(pfn, token);
    }

    @Override
    public void read(int pfn, long expected) {
      touch(pfn);
      inner.read(pfn, expected);
    }

    @Override
    public void readForSwapOut(int[] pfns, long[] expected, int count, long[] values) {
      for (int i = 0; i < count; i++) {
        touch(pfns[i]);
      }
      inner.readForSwapOut(pfns, expected, count, values);
    }

    @Override
    public void flush() {
      inner.flush();
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
    public long drainedHypervisorNs() {
      return inner.drainedHypervisorNs();
    }

    @Override
    public void close() {
      inner.close();
    }
  }
}
