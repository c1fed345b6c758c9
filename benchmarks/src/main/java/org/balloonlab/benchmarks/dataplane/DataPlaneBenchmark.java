package org.balloonlab.benchmarks.dataplane;

import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.balloonlab.benchmarks.BenchmarkCommand;
import org.balloonlab.benchmarks.FigureTable;
import org.balloonlab.benchmarks.HypervisorJvm;
import org.balloonlab.guest.os.GuestCosts;
import org.balloonlab.guest.os.GuestCounters;
import org.balloonlab.guest.os.GuestOs;
import org.balloonlab.guest.workload.WorkloadSpec;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.MachineConfig;
import org.balloonlab.hypervisor.machine.Vm;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.swap.SwapDevice;
import org.balloonlab.units.MemorySize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The data-plane benchmark: how fast a guest's memory accesses travel to the hypervisor and back, how much of
 * that the lab clock keeps, and how much hypervisor heap a simulated machine page costs. These figures bound what
 * a lab can simulate: the first two how much simulated work a guest gets through per second of wall time, the
 * last how large a machine fits in one hypervisor JVM.
 *
 * <ol>
 *   <li><b>gRPC</b>: the hypervisor runs in its own JVM, started as a lab starts it but running free
 *       ({@code --lab-clock free}); this JVM plays the guest agent ({@link GrpcGuest}: power-on over
 *       {@code MachineService}, the access stream through {@code RemotePhysicalMemory} with its batches and
 *       in-flight window, a guest OS with its own swap) and drives it with a workload whose footprint fits in
 *       guest memory, so what is timed is the data plane, not paging. Accesses per second of wall time, measured
 *       as {@link ThroughputRun} describes.
 *   <li><b>In process</b>: the same workload with the same seed and batch size, the machine in this JVM behind
 *       {@link InProcessPhysicalMemory}, which calls the machine exactly as the gRPC service does. The ratio
 *       gRPC / in-process is the share of the data plane's speed the wire keeps.
 *   <li><b>Heap per machine page</b>: see {@link HeapFootprint}.
 *   <li><b>Lab clock</b>: the same workload over gRPC with the hypervisor running free and in lockstep, in
 *       alternating pairs, their ratio against a target; and the wall time of one step of the clock and the
 *       lockstep rate at several quanta. See {@link LabClockCost}.
 * </ol>
 * Every read is checked in every throughput run and every page audited at the end; any integrity or isolation
 * violation fails the run (exit code 3). The targets are printed beside the figures, PASS or MISS; a miss
 * fails the run only with {@code --strict}.
 *
 * <p>The figures are wall-clock rates and depend on the host; compare runs on the same machine. Run it with
 * {@code benchmarks/run}, which builds what is needed and starts this class with the serial collector, as
 * {@code JvmProcess} starts the hypervisor and guests.
 */
@Command(name = "data-plane-benchmark",
    description = "Measures data-plane accesses per second over gRPC and in process, the hypervisor's heap "
        + "per machine page, and the lab clock's cost: lockstep against free running, and one clock step.",
    exitCodeList = {"0:the benchmark ran and every read was checked correct",
        "1:a target was missed (with --strict) or the benchmark failed", "2:bad command line",
        "3:integrity or isolation violations were found"})
public final class DataPlaneBenchmark extends BenchmarkCommand {
  /** Accesses per second a guest must get over gRPC. */
  static final double TARGET_GRPC_ACCESSES_PER_SECOND = 2_000_000;
  /** The share of the in-process rate the gRPC data plane must keep. */
  static final double TARGET_RATIO = 0.5;
  /** Heap bytes the hypervisor may spend per machine page. */
  static final double TARGET_HEAP_BYTES_PER_PAGE = 24;
  /** The hypervisor's default batch limit; raised for both backings if --batch asks for more. */
  private static final int DEFAULT_MAX_BATCH = 16_384;
  private static final int MAX_FRAMES = Integer.MAX_VALUE - 8;

  /** The parts of the benchmark, for {@code --only}. */
  enum Part { GRPC, IN_PROCESS, HEAP, CLOCK }

  /** Reads {@code grpc}, {@code in-process}, {@code heap} or {@code clock}. */
  static final class PartConverter extends BenchmarkCommand.PartConverter<Part> {
    PartConverter() {
      super(Part.class);
    }
  }

  @Option(names = "--measure", paramLabel = "DURATION", defaultValue = "5s",
      description = "Wall time of each measured phase (default: ${DEFAULT-VALUE}).")
  Duration measure;

  @Option(names = "--warmup", paramLabel = "DURATION", defaultValue = "5s",
      description = "Wall time of each warm-up, after every page has been touched (default: ${DEFAULT-VALUE}).")
  Duration warmup;

  @Option(names = "--workload", paramLabel = "SPEC", defaultValue = "uniform:footprint=256MiB,writes=0.5",
      description = "The guest's workload, as the guest agent reads it (default: ${DEFAULT-VALUE}).")
  String workload;

  @Option(names = "--vm-memory", paramLabel = "SIZE", defaultValue = "512MiB",
      description = "The VM's memory (default: ${DEFAULT-VALUE}).")
  MemorySize vmMemory;

  @Option(names = "--machine-memory", paramLabel = "SIZE", defaultValue = "2GiB",
      description = "Machine memory for the throughput runs (default: ${DEFAULT-VALUE}).")
  MemorySize machineMemory;

  @Option(names = "--batch", paramLabel = "N", defaultValue = "16384",
      description = "Accesses per batch, both backings (default: ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--window", paramLabel = "N", defaultValue = "4",
      description = "Batches in flight at most over gRPC (default: ${DEFAULT-VALUE}).")
  int window;

  @Option(names = "--slice", paramLabel = "N", defaultValue = "10000",
      description = "Accesses per vCPU time slice (default: ${DEFAULT-VALUE}).")
  int slice;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
      description = "Seeds the workload; both backings see the same accesses (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--heap-machine", paramLabel = "SIZE", defaultValue = "16GiB",
      description = "Machine memory for the heap measurement (default: ${DEFAULT-VALUE}).")
  MemorySize heapMachine;

  @Option(names = "--heap-vms", paramLabel = "N", defaultValue = "4",
      description = "VMs sharing the heap machine's memory, all of it mapped (default: ${DEFAULT-VALUE}).")
  int heapVms;

  @Option(names = "--hypervisor-heap", paramLabel = "SIZE", defaultValue = "512m",
      description = "-Xmx of the hypervisor child JVM (default: ${DEFAULT-VALUE}).")
  String hypervisorHeap;

  @Option(names = "--quantum", paramLabel = "DURATION", defaultValue = "10ms",
      description = "Lab clock part: the quantum of the lockstep runs compared with free-running ones "
          + "(default: ${DEFAULT-VALUE}).")
  Duration quantum;

  @Option(names = "--pairs", paramLabel = "N", defaultValue = "3",
      description = "Lab clock part: free-running and lockstep runs, alternated, each pair giving a ratio "
          + "(default: ${DEFAULT-VALUE}).")
  int pairs;

  @Option(names = "--quanta", paramLabel = "DURATION", split = ",", defaultValue = "1ms,10ms,100ms",
      description = "Lab clock part: the quanta at which one clock step and the lockstep data plane are measured "
          + "(default: ${DEFAULT-VALUE}).")
  List<Duration> quanta;

  @Option(names = "--idle-workload", paramLabel = "SPEC", defaultValue = "idle:footprint=16MiB",
      description = "Lab clock part: the idle guest's workload, whose quanta cost only the clock's step "
          + "(default: ${DEFAULT-VALUE}).")
  String idleWorkload;

  @Option(names = "--only", paramLabel = "PART", split = ",", converter = PartConverter.class,
      description = "Run only these parts, comma-separated: grpc, in-process, heap, clock (default: all). The "
          + "ratio gRPC / in process needs the first two.")
  Set<Part> only;

  @Option(names = "--strict", description = "Exit with code 1 when a target is missed.")
  boolean strict;

  @Option(names = "--keep-work-dir",
      description = "Keep the work directory (child logs, swap files) even when the run succeeds.")
  boolean keepWorkDir;

  public static void main(String[] args) {
    main(new DataPlaneBenchmark(), args);
  }

  @Override
  protected int run() throws Exception {
    WorkloadSpec workloadSpec = workload(workload, "--workload");
    WorkloadSpec idleSpec = workload(idleWorkload, "--idle-workload");
    long vmPages = pages(vmMemory, "--vm-memory");
    long machineFrames = pages(machineMemory, "--machine-memory");
    long heapFrames = pages(heapMachine, "--heap-machine");
    check(vmPages <= Machine.MAX_VM_PAGES, "--vm-memory " + vmMemory + " is more than a VM may have");
    check(machineFrames <= MAX_FRAMES && heapFrames <= MAX_FRAMES, "machine memory is more than the simulator holds");
    check(batch >= 1 && batch <= 1 << 20, "--batch must be from 1 to 1048576, got " + batch);
    check(window >= 1 && window <= 256, "--window must be from 1 to 256, got " + window);
    check(slice >= 1, "--slice must be positive, got " + slice);
    check(!measure.isZero() && !measure.isNegative(), "--measure must be positive");
    check(!warmup.isNegative(), "--warmup cannot be negative");
    check(heapVms >= 1 && heapVms <= heapFrames, "--heap-vms must be from 1 to the heap machine's pages");
    check(vmPages <= machineFrames, "--vm-memory " + vmMemory + " exceeds --machine-memory " + machineMemory
        + "; the benchmark measures the data plane, not hypervisor paging");
    long swapPages = Math.max(2 * vmPages, workloadSpec.footprintPages() + vmPages / 8);
    check(swapPages <= MAX_FRAMES, "the guest's swap would be too large");
    check(idleSpec.footprintPages() <= vmPages, "--idle-workload's footprint exceeds --vm-memory " + vmMemory);
    check(pairs >= 1 && pairs <= 100, "--pairs must be from 1 to 100, got " + pairs);
    checkQuantum(quantum, "--quantum");
    for (Duration q : quanta) {
      checkQuantum(q, "--quanta");
    }
    Set<Part> parts = parts(only, Part.class);
    int maxBatch = maxBatch();
    GrpcGuest.Shape shape = new GrpcGuest.Shape((int) vmPages, (int) swapPages, batch, window);

    printSetup(workloadSpec, vmPages, parts);
    ThroughputRun run = new ThroughputRun(workloadSpec, warmup, measure, slice, seed);
    Path workDir = Files.createTempDirectory("balloonlab-bench-");
    boolean ok = false;
    try {
      ThroughputRun.Result grpc = null;
      ThroughputRun.Result local = null;
      HeapFootprint.Result heap = null;
      LabClockCost.Result clock = null;
      try {
        if (parts.contains(Part.GRPC)) {
          grpc = overGrpc(run, workDir, shape);
        }
        if (parts.contains(Part.IN_PROCESS)) {
          local = inProcess(run, workDir, (int) vmPages, (int) swapPages, (int) machineFrames, maxBatch);
        }
        if (parts.contains(Part.HEAP)) {
          progress("heap: a " + heapMachine + " machine, then " + heapVms + " VMs adding up to it, every page "
              + "mapped");
          heap = HeapFootprint.measure((int) heapFrames, heapVms, Math.min(maxBatch, DEFAULT_MAX_BATCH), workDir);
        }
        if (parts.contains(Part.CLOCK)) {
          clock = labClock(run, new ThroughputRun(idleSpec, Duration.ZERO, warmup, slice, seed),
              new ThroughputRun(idleSpec, Duration.ZERO, measure, slice, seed), shape, workDir);
        }
      } catch (IOException e) {
        err().println("data-plane-benchmark: " + e.getMessage());
        return EXIT_FAILED;
      } catch (StatusRuntimeException e) {
        err().println("data-plane-benchmark: a hypervisor JVM failed a run: " + e.getStatus()
            + "; see the child logs under " + workDir);
        return EXIT_FAILED;
      }
      FigureTable figures = printFigures(grpc, local, heap, clock);
      ok = figures.violations() == 0;
      return exitCode(figures, "integrity or isolation", strict, workDir);
    } finally {
      leave(workDir, ok, keepWorkDir, "child logs");
    }
  }

  /**
   * Part 1: the hypervisor in its own JVM, this JVM as the guest agent. The hypervisor runs free, as a machine
   * called in process does: what this part compares is the wire, not the lab clock ({@link LabClockCost} does that).
   */
  private ThroughputRun.Result overGrpc(ThroughputRun run, Path workDir, GrpcGuest.Shape shape) throws Exception {
    try (HypervisorJvm hypervisor = HypervisorJvm.start(hypervisorArgs(workDir, "--lab-clock", "free"),
        hypervisorHeap, workDir, Duration.ofSeconds(60))) {
      progress("gRPC: hypervisor JVM (pid " + hypervisor.pid() + ", " + machineMemory + ", --lab-clock free) "
          + "listening on " + hypervisor.target() + "; touching " + MemorySize.humanPages(run.footprintPages())
          + ", warming up " + FigureTable.duration(warmup) + ", measuring " + FigureTable.duration(measure));
      return GrpcGuest.run(hypervisor, "bench-grpc", run, shape, workDir).result();
    }
  }

  /** Part 4: the lab clock against the free-running data path, and the cost of one clock step. */
  private LabClockCost.Result labClock(ThroughputRun busy, ThroughputRun idleWarmup, ThroughputRun idle,
                                       GrpcGuest.Shape shape, Path workDir) throws Exception {
    progress("lab clock: " + pairs + (pairs == 1 ? " pair" : " pairs") + " of a free-running and a lockstep "
        + "(quantum " + quantum.toMillis() + " ms) hypervisor JVM, each run warming up " + FigureTable.duration(warmup)
        + " and measuring " + FigureTable.duration(measure) + "; then one clock step and the data plane at quanta "
        + quanta.stream().map(q -> q.toMillis() + " ms").collect(Collectors.joining(", ")));
    LabClockCost.Hypervisors hypervisors = (dir, clockFlags) -> HypervisorJvm.start(
        hypervisorArgs(dir, clockFlags.toArray(String[]::new)), hypervisorHeap, dir, Duration.ofSeconds(60));
    return new LabClockCost(hypervisors, busy, idleWarmup, idle, shape, this::progress)
        .measure(quantum, pairs, quanta, workDir);
  }

  /** The hypervisor's flags for a throughput run, {@code more} added; its host swap file in {@code workDir}. */
  private List<String> hypervisorArgs(Path workDir, String... more) {
    List<String> args = new ArrayList<>(List.of("--memory", machineMemory.toString(), "--max-batch",
        Integer.toString(maxBatch()), "--host-swap-file", workDir.resolve("host.swap").toString()));
    args.addAll(List.of(more));
    return args;
  }

  /** The hypervisor's batch limit: its default, or more if --batch asks for more. */
  private int maxBatch() {
    return Math.max(DEFAULT_MAX_BATCH, batch);
  }

  /** A quantum the hypervisor accepts (durations are read in whole milliseconds, so it is told them exactly). */
  private void checkQuantum(Duration q, String option) {
    check(q.compareTo(Duration.ofMillis(1)) >= 0 && q.compareTo(Duration.ofSeconds(10)) <= 0,
        option + " must be from 1ms to 10s, got " + q.toMillis() + "ms");
  }

  private WorkloadSpec workload(String spec, String option) {
    try {
      return WorkloadSpec.parse(spec);
    } catch (IllegalArgumentException e) {
      throw badCommandLine(option + ": " + e.getMessage());
    }
  }

  /** Part 2: the same workload, the machine called directly. */
  private ThroughputRun.Result inProcess(ThroughputRun run, Path workDir, int vmPages, int swapPages, int frames,
                                         int maxBatch) {
    progress("in process: a " + machineMemory + " machine in this JVM; touching "
        + MemorySize.humanPages(run.footprintPages()) + ", warming up " + FigureTable.duration(warmup) + ", measuring "
        + FigureTable.duration(measure));
    int hostSlots = (int) Math.min(MAX_FRAMES, 4L * frames);
    Machine machine = new Machine(new MachineConfig(frames, hostSlots, workDir.resolve("host-in-process.swap"),
        maxBatch, CostModel.DEFAULT, 1));
    try {
      Vm vm = machine.powerOn("bench-in-process", "linux", vmPages);
      CostModel c = machine.costs();
      GuestCosts costs = new GuestCosts(c.memoryAccessNs(), c.guestPageFaultNs(), c.guestSwapReadNs(),
          c.guestSwapWriteNs());
      GuestCounters counters = new GuestCounters();
      ThroughputRun.Result result;
      try (SwapDevice swap = new SwapDevice(workDir.resolve("guest-in-process.swap"), swapPages);
           InProcessPhysicalMemory memory = new InProcessPhysicalMemory(machine, vm, batch,
               GuestOs.checkerFor(vm.id(), counters));
           GuestOs os = new GuestOs(vm.id(), vmPages, memory, swap, costs, counters)) {
        result = run.run(os, null, null);
      }
      machine.powerOff(vm.id(), vm.credential());
      return result;
    } finally {
      machine.close();
    }
  }

  // ---------------------------------------------------------------- report

  private void printSetup(WorkloadSpec workloadSpec, long vmPages, Set<Part> parts) {
    String gcs = ManagementFactory.getGarbageCollectorMXBeans().stream().map(GarbageCollectorMXBean::getName)
        .collect(Collectors.joining(", "));
    out.println("BalloonLab data-plane benchmark");
    out.printf("  %s, GC %s%n", jvm(), gcs);
    out.printf("  workload %s in a %s VM; batch %d, window %d, slice %d, seed %d%n", workload, vmMemory, batch,
        window, slice, seed);
    out.printf("  warm-up %d ms and measured phase %d ms per throughput run; parts %s%n", warmup.toMillis(),
        measure.toMillis(), partNames(parts));
    if (workloadSpec.footprintPages() > vmPages) {
      out.printf("  note: the footprint (%s) exceeds guest memory: the figures include the guest's paging%n",
          MemorySize.humanPages(workloadSpec.footprintPages()));
    }
    out.flush();
  }

  private FigureTable printFigures(ThroughputRun.Result grpc, ThroughputRun.Result local, HeapFootprint.Result heap,
                                   LabClockCost.Result clock) {
    FigureTable figures = new FigureTable();
    if (grpc != null) {
      figures.target("data plane over gRPC (hypervisor JVM)", rate(grpc),
          ">= " + rate(TARGET_GRPC_ACCESSES_PER_SECOND), grpc.accessesPerSecond() >= TARGET_GRPC_ACCESSES_PER_SECOND);
    }
    if (local != null) {
      figures.info("data plane in process (Machine direct)", rate(local), "");
    }
    if (grpc != null && local != null) {
      double ratio = grpc.accessesPerSecond() / local.accessesPerSecond();
      figures.target("ratio gRPC / in process", String.format(Locale.ROOT, "%.3f", ratio),
          String.format(Locale.ROOT, ">= %.2f", TARGET_RATIO), ratio >= TARGET_RATIO);
    }
    if (heap != null) {
      String target = String.format(Locale.ROOT, "<= %.0f B/page", TARGET_HEAP_BYTES_PER_PAGE);
      figures.target("heap per machine page, " + MemorySize.humanPages(heap.frames()) + " machine",
          bytesPerPage(heap.machineBytesPerPage()), target, heap.machineBytesPerPage() <= TARGET_HEAP_BYTES_PER_PAGE);
      figures.target("  with P2Ms of " + MemorySize.humanPages(heap.vmPages()) + " of VMs, all mapped",
          bytesPerPage(heap.mappedBytesPerPage()), target, heap.mappedBytesPerPage() <= TARGET_HEAP_BYTES_PER_PAGE);
    }
    for (ThroughputRun.Result r : new ThroughputRun.Result[] {grpc, local}) {
      if (r != null) {
        figures.audit("integrity / isolation violations (" + (r == grpc ? "gRPC" : "in process") + ")",
            r.integrityViolations() + " / " + r.isolationViolations(), "0 / 0", r.violations());
      }
    }
    if (clock != null) {
      clock.addTo(figures);
    }

    figures.print(out);
    if (grpc != null) {
      printDetail("gRPC", grpc);
    }
    if (local != null) {
      printDetail("in process", local);
    }
    if (heap != null) {
      out.printf(Locale.ROOT, "  heap: machine alone %.1f MiB (layout predicts %.2f B/page: frame contents, owner, "
              + "free stack, host swap bitmap); with %d VMs all mapped %.1f MiB (layout predicts %.2f B/page: + 4 B "
              + "of P2M per VM page)%n",
          heap.machineBytes() / 1048576.0, heap.expectedMachineBytesPerPage(), heap.vms(),
          heap.mappedBytes() / 1048576.0, heap.expectedMappedBytesPerPage());
    }
    if (clock != null) {
      clock.printDetail(out);
    }
    out.flush();
    return figures;
  }

  private void printDetail(String name, ThroughputRun.Result r) {
    String steadiness = r.steadiness().isEmpty() ? "" : "; " + r.steadiness();
    out.printf(Locale.ROOT, "  %s: %,d accesses in %.3f s (%.1f ns each, wall)%s%n",
        name, r.accesses(), r.elapsedNs() / 1e9, r.nanosPerAccess(), steadiness);
    out.printf(Locale.ROOT, "    CPU while measured: %s (of %d); %,d warm-up accesses before; %,d guest faults while "
            + "measured; simulated %.1f ns/access%n",
        r.cpu(), Runtime.getRuntime().availableProcessors(), r.warmupAccesses(), r.trueFaults(),
        (double) r.simulatedNs() / r.accesses());
  }

  private static String rate(ThroughputRun.Result r) {
    return rate(r.accessesPerSecond());
  }

  private static String rate(double perSecond) {
    return String.format(Locale.ROOT, "%,.0f accesses/s", perSecond);
  }

  private static String bytesPerPage(double b) {
    return String.format(Locale.ROOT, "%.2f B/page", b);
  }
}
