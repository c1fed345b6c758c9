package org.balloonlab.benchmarks.balloon;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.balloonlab.balloon.driver.BalloonDriver;
import org.balloonlab.benchmarks.FigureTable;
import org.balloonlab.benchmarks.HypervisorJvm;
import org.balloonlab.benchmarks.WorkDirectory;
import org.balloonlab.guest.workload.WorkloadSpec;
import org.balloonlab.hypervisor.machine.BalloonPageStatus;
import org.balloonlab.hypervisor.machine.BalloonSession;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.hypervisor.machine.Vm;
import org.balloonlab.hypervisor.time.CostModel;
import org.balloonlab.proto.GetVmRequest;
import org.balloonlab.proto.ManagementServiceGrpc;
import org.balloonlab.proto.SetBalloonTargetRequest;
import org.balloonlab.proto.VmSelector;
import org.balloonlab.proto.VmState;
import org.balloonlab.units.CommandLineConverters;
import org.balloonlab.units.MemorySize;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The balloon benchmark: how fast the balloon reclaims a guest's idle memory end to end, and how soon the driver
 * reacts to a new target.
 *
 * <p>The hypervisor runs in its own JVM, as a lab starts it; this JVM plays the guest agent, wired exactly as
 * {@code GuestAgentCommand} wires it ({@link BalloonGuest}), with an idle workload: a process that wrote a small
 * footprint once and sleeps, so nearly all of the guest's memory is free and the balloon takes it without the
 * guest paging. The operator's side is {@code ManagementService} on a channel of its own.
 * <ol>
 *   <li><b>Reclaim rate</b>: for each driver batch size, a fresh guest; after an untimed warm-up inflation (the
 *       JIT), the target is set to {@code --target} and the time taken from the {@code SetBalloonTarget} call
 *       until the balloon holds the target, as the driver learns it from the last Lock reply (then confirmed
 *       with {@code GetVm}: the hypervisor's {@code balloon.size_pages}). Deflation back to 0 is timed too. Pages
 *       per second and GiB per second of simulated memory, median of {@code --repeats} runs.</li>
 *   <li><b>Reaction delay</b>: a fresh guest with the default driver, its target raised by a page at a time; the
 *       delay from the {@code SetBalloonTarget} call to the first page locked, with the doorbell and with
 *       polling alone (the driver's host hides the doorbell). Before each change the harness waits a random
 *       time (under 20 ms with the doorbell, under one poll interval without) so the changes fall at random
 *       points of the driver's poll cycle.</li>
 * </ol>
 * Each guest is audited when it stops: every page the workload wrote read back and checked, and the balloon as
 * the hypervisor, the driver and the guest OS count it must agree, with no balloon fault or reset. Any
 * violation fails the run (exit code 3). The {@code profile} section explains where the time goes: the vCPU hop
 * the driver's kernel calls take, the guest OS's and the machine's own cost per page, and the Lock round trip.
 *
 * <p>Run it with {@code benchmarks/run-balloon}.
 */
@Command(name = "balloon-benchmark", mixinStandardHelpOptions = true, version = "BalloonLab 0.1.0",
    description = "Measures the balloon's end-to-end reclaim rate and the delay from a target change to the "
        + "first locked page, with the doorbell and with polling alone.",
    sortOptions = false,
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:the benchmark ran and every audit was clean",
        "1:a target was missed (with --strict) or the benchmark failed", "2:bad command line",
        "3:integrity or isolation violations, or the balloon's views disagreed"})
public final class BalloonBenchmark implements Callable<Integer> {
  /** Pages per second the balloon must reclaim end to end (4 GiB/s of 4 KiB pages). */
  static final double TARGET_PAGES_PER_SECOND = 1_000_000;
  /** Most milliseconds from a target change to the first locked page with the doorbell. */
  static final double TARGET_DOORBELL_MS = 50;
  static final int EXIT_FAILED = 1;
  static final int EXIT_VIOLATIONS = 3;
  private static final long PAGE = 4096;
  private static final double GIB = 1L << 30;

  enum Part { RECLAIM, LATENCY, PROFILE }

  static final class PartConverter implements CommandLine.ITypeConverter<Part> {
    @Override
    public Part convert(String value) {
      try {
        return Part.valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException("unknown part '" + value + "'; known: reclaim, latency, "
            + "profile");
      }
    }
  }

  @Spec
  CommandLine.Model.CommandSpec spec;

  @Option(names = "--machine-memory", paramLabel = "SIZE", defaultValue = "8GiB",
      description = "The hypervisor's machine memory (default: ${DEFAULT-VALUE}).")
  MemorySize machineMemory;

  @Option(names = "--vm-memory", paramLabel = "SIZE", defaultValue = "6GiB",
      description = "Each guest's memory (default: ${DEFAULT-VALUE}).")
  MemorySize vmMemory;

  @Option(names = "--footprint", paramLabel = "SIZE", defaultValue = "256MiB",
      description = "What the idle process writes once before it sleeps (default: ${DEFAULT-VALUE}).")
  MemorySize footprint;

  @Option(names = "--target", paramLabel = "SIZE", defaultValue = "4GiB",
      description = "The balloon target of the reclaim runs (default: ${DEFAULT-VALUE}).")
  MemorySize target;

  @Option(names = "--batches", paramLabel = "N", split = ",", defaultValue = "512,16384",
      description = "Driver batch sizes (pages per Lock) of the reclaim runs, comma-separated "
          + "(default: ${DEFAULT-VALUE}; the driver's default is " + BalloonDriver.Config.DEFAULT_BATCH_PAGES + ").")
  int[] batches;

  @Option(names = "--hypervisor-balloon-batch", paramLabel = "N", defaultValue = "65536",
      description = "The hypervisor's --balloon-batch, the most pages it lets a driver lock at once "
          + "(default: ${DEFAULT-VALUE}; its own default is 512).")
  int hypervisorBalloonBatch;

  @Option(names = "--cap", paramLabel = "FRACTION", defaultValue = "0.9",
      description = "The driver's balloon cap, a share of guest memory; must allow --target "
          + "(default: ${DEFAULT-VALUE}; the driver's default is 0.65).")
  double cap;

  @Option(names = "--poll", paramLabel = "DURATION", defaultValue = "1s",
      description = "The driver's poll interval (default: ${DEFAULT-VALUE}, the driver's default).")
  Duration poll;

  @Option(names = "--repeats", paramLabel = "N", defaultValue = "5",
      description = "Timed inflations (each followed by a timed deflation) per batch size (default: "
          + "${DEFAULT-VALUE}).")
  int repeats;

  @Option(names = "--warmup-target", paramLabel = "SIZE", defaultValue = "4GiB",
      description = "Untimed inflation and deflation before the timed ones, per batch size; 0 for none "
          + "(default: ${DEFAULT-VALUE}).")
  MemorySize warmupTarget;

  @Option(names = "--latency-reps", paramLabel = "N", defaultValue = "10",
      description = "Target changes timed with the doorbell and again with polling alone (default: "
          + "${DEFAULT-VALUE}).")
  int latencyReps;

  @Option(names = "--latency-step", paramLabel = "PAGES", defaultValue = "1",
      description = "Pages each target change adds (default: ${DEFAULT-VALUE}).")
  int latencyStep;

  @Option(names = "--observer", paramLabel = "HOW", defaultValue = "driver",
      description = "How the balloon's growth is observed: driver (in process, the instant the driver's Lock reply "
          + "arrives; no polling) or getvm (GetVm every millisecond, the hypervisor's balloon.size_pages; coarser "
          + "and it loads the 2 cores with RPCs) (default: ${DEFAULT-VALUE}).")
  String observer;

  @Option(names = "--hypervisor-heap", paramLabel = "SIZE", defaultValue = "512m",
      description = "-Xmx of the hypervisor child JVM (default: ${DEFAULT-VALUE}).")
  String hypervisorHeap;

  @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s",
      description = "Longest wait for any one inflation, deflation or guest start (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
      description = "Seeds the workloads and the random waits (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--only", paramLabel = "PART", split = ",", converter = PartConverter.class,
      description = "Run only these parts, comma-separated: reclaim, latency, profile (default: all).")
  Set<Part> only;

  @Option(names = "--strict", description = "Exit with code 1 when a target is missed.")
  boolean strict;

  @Option(names = "--keep-work-dir",
      description = "Keep the work directory (hypervisor log, swap files) even when the run succeeds.")
  boolean keepWorkDir;

  private PrintWriter out;
  private final List<BalloonGuest> liveGuests = new CopyOnWriteArrayList<>();
  private final List<ManagedChannel> liveChannels = new CopyOnWriteArrayList<>();
  private ManagementServiceGrpc.ManagementServiceBlockingStub management;
  private volatile HypervisorJvm hypervisor;
  private volatile Path workDir;
  private final List<BalloonGuest.Audit> audits = new ArrayList<>();

  public static void main(String[] args) {
    System.exit(CommandLineConverters.register(new CommandLine(new BalloonBenchmark())).execute(args));
  }

  // ------------------------------------------------------------------------------------------------ results

  /** One timed inflation or deflation. */
  record Move(int batchPages, long pages, long setCallNanos, long firstNanos, long doneNanos, boolean confirmed,
              InstrumentedBalloonHost.Counts host, InstrumentedBalloonKernel.Counts kernel, long harnessCpuNanos,
              long hypervisorCpuNanos) {
    double pagesPerSecond() {
      return pages * 1e9 / doneNanos;
    }
  }

  /** Everything one batch size gave. */
  record Reclaim(int batchPages, int grantedBatch, List<Move> inflations, List<Move> deflations, Move warmup) {
    double medianInflateRate() {
      return median(inflations.stream().mapToDouble(Move::pagesPerSecond).toArray());
    }

    double medianDeflateRate() {
      return median(deflations.stream().mapToDouble(Move::pagesPerSecond).toArray());
    }
  }

  /** The delays of one reaction series, in nanoseconds. */
  record Latency(boolean doorbell, long[] firstLockNanos, long[] setCallNanos, long doorbellRings, long rounds,
                 long[][] steps, long[] getVmNanos) {}

  /** The steps of a reaction, each from the end of the one before: see {@link #latency}. */
  private static final String[] STEPS = {"ring", "worker wakes", "GetTarget", "allocate", "Lock"};

  /** What the profile probes measured. */
  record Profile(long[] onCpuNanos, double osAllocNsPerPage, double osFreeNsPerPage, int osProbeBatch,
                 double machineLockNsPerPage, double machineUnlockNsPerPage, int machineBatch) {}

  // ------------------------------------------------------------------------------------------------- main

  @Override
  public Integer call() throws Exception {
    CommandLine cl = spec.commandLine();
    out = cl.getOut();
    long vmPages = pages(vmMemory, "--vm-memory");
    long machinePages = pages(machineMemory, "--machine-memory");
    long footprintPages = pages(footprint, "--footprint");
    long targetPages = pages(target, "--target");
    long warmupPages = pages(warmupTarget, "--warmup-target");
    check(vmPages <= Machine.MAX_VM_PAGES && vmPages <= Integer.MAX_VALUE - 8,
        "--vm-memory " + vmMemory + " is more than a VM may have");
    check(machinePages <= Integer.MAX_VALUE - 8, "--machine-memory is more than the simulator holds");
    check(batches.length >= 1, "--batches needs at least one size");
    for (int b : batches) {
      check(b >= 1 && b <= hypervisorBalloonBatch, "--batches: each from 1 to --hypervisor-balloon-batch ("
          + hypervisorBalloonBatch + "), got " + b);
    }
    check(hypervisorBalloonBatch >= 1 && hypervisorBalloonBatch <= 1 << 16,
        "--hypervisor-balloon-batch must be from 1 to 65536");
    check(cap >= 0 && cap <= 1, "--cap must be from 0 to 1");
    long capPages = (long) Math.floor(cap * vmPages);
    check(targetPages >= 1 && targetPages <= capPages, "--target " + target + " must be positive and within the cap ("
        + MemorySize.humanPages(capPages) + " = " + cap + " of " + vmMemory + ")");
    check(warmupPages <= capPages, "--warmup-target exceeds the cap");
    check(footprintPages + targetPages <= vmPages, "--footprint plus --target exceed --vm-memory: the guest "
        + "would page, and this benchmark times ballooning idle memory");
    check(repeats >= 1, "--repeats must be at least 1");
    check(latencyReps >= 1, "--latency-reps must be at least 1");
    check(latencyStep >= 1 && (long) latencyStep * (latencyReps + 3) <= capPages, "--latency-step out of range");
    check(!poll.isZero() && !poll.isNegative(), "--poll must be positive");
    check(!timeout.isZero() && !timeout.isNegative(), "--timeout must be positive");
    check(observer.equals("driver") || observer.equals("getvm"), "--observer must be driver or getvm");
    Set<Part> parts = only == null || only.isEmpty() ? EnumSet.allOf(Part.class) : EnumSet.copyOf(only);
    WorkloadSpec workload = WorkloadSpec.parse("idle:footprint=" + footprint + ",writes=1");

    long started = System.nanoTime();
    printSetup(parts, vmPages, targetPages);
    Path workDir = Files.createTempDirectory("balloonlab-balloon-bench-");
    this.workDir = workDir;
    Thread hook = new Thread(this::emergencyCleanup, "balloon-benchmark-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    boolean ok = false;
    try {
      List<Reclaim> reclaims = new ArrayList<>();
      List<Latency> latencies = new ArrayList<>();
      Profile profile = null;
      try {
        hypervisor = HypervisorJvm.start(List.of("--memory", machineMemory.toString(),
            "--max-batch", "16384", "--balloon-batch", Integer.toString(hypervisorBalloonBatch),
            "--host-swap", "1GiB", "--host-swap-file", workDir.resolve("host.swap").toString()),
            hypervisorHeap, workDir, Duration.ofSeconds(60));
        progress("hypervisor JVM (pid " + hypervisor.pid() + ", " + machineMemory + ", --balloon-batch "
            + hypervisorBalloonBatch + ") listening on " + hypervisor.target());
        ManagedChannel mgmt = NettyChannelBuilder.forTarget(hypervisor.target()).usePlaintext().build();
        liveChannels.add(mgmt);
        management = ManagementServiceGrpc.newBlockingStub(mgmt);

        if (parts.contains(Part.RECLAIM)) {
          for (int i = 0; i < batches.length; i++) {
            boolean withProfile = i == 0 && parts.contains(Part.PROFILE);
            Object[] r = reclaim(workload, workDir, (int) vmPages, targetPages, warmupPages, batches[i],
                withProfile);
            reclaims.add((Reclaim) r[0]);
            if (r[1] != null) {
              profile = (Profile) r[1];
            }
          }
        }
        if (parts.contains(Part.LATENCY)) {
          latencies.add(latency(workload, workDir, (int) vmPages, true));
          latencies.add(latency(workload, workDir, (int) vmPages, false));
        }
        if (parts.contains(Part.PROFILE)) {
          if (profile == null) {
            profile = new Profile(new long[0], Double.NaN, Double.NaN, 0, Double.NaN, Double.NaN, 0);
          }
          int probeBatch = Math.min(hypervisorBalloonBatch, 16384);
          progress("profile: Machine.balloonLock/balloonUnlock in this JVM, " + MemorySize.humanPages(targetPages)
              + " in batches of " + probeBatch);
          double[] m = machineProbe(workDir, (int) vmPages, targetPages, probeBatch);
          profile = new Profile(profile.onCpuNanos(), profile.osAllocNsPerPage(), profile.osFreeNsPerPage(),
              profile.osProbeBatch(), m[0], m[1], probeBatch);
        }
      } catch (IOException e) {
        cl.getErr().println("balloon-benchmark: " + e.getMessage());
        return EXIT_FAILED;
      } catch (StatusRuntimeException e) {
        cl.getErr().println("balloon-benchmark: the hypervisor failed a call: " + e.getStatus()
            + "; see its log in " + workDir);
        return EXIT_FAILED;
      } catch (IllegalStateException e) {
        cl.getErr().println("balloon-benchmark: " + e.getMessage());
        return EXIT_FAILED;
      } finally {
        for (BalloonGuest g : liveGuests) {
          g.close();
        }
        liveGuests.clear();
        for (ManagedChannel c : liveChannels) {
          c.shutdownNow();
          c.awaitTermination(5, TimeUnit.SECONDS);
        }
        liveChannels.clear();
        if (hypervisor != null) {
          hypervisor.close();
        }
      }
      int[] v = report(reclaims, latencies, profile, (System.nanoTime() - started) / 1e9);
      int misses = v[0];
      long violations = v[1];
      ok = violations == 0;
      if (violations > 0) {
        out.println("FAILED: integrity, isolation or balloon-consistency violations; work directory kept: " + workDir);
        return EXIT_VIOLATIONS;
      }
      if (misses > 0 && strict) {
        out.println("FAILED: " + misses + " target(s) missed (--strict)");
        return EXIT_FAILED;
      }
      return 0;
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // Shutting down: the hook runs.
      }
      out.flush();
      if (ok && !keepWorkDir) {
        WorkDirectory.delete(workDir);
      } else {
        out.println("work directory (hypervisor log): " + workDir);
        out.flush();
      }
    }
  }

  /** The shutdown hook: cuts every channel and stops the hypervisor if the harness is killed midway. */
  private void emergencyCleanup() {
    System.err.println("balloon-benchmark: interrupted; stopping the hypervisor; work directory kept: " + workDir);
    for (BalloonGuest g : liveGuests) {
      g.shutdownChannels();
    }
    for (ManagedChannel c : liveChannels) {
      c.shutdownNow();
    }
    HypervisorJvm h = hypervisor;
    if (h != null) {
      try {
        h.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---------------------------------------------------------------------------------------------- reclaim

  private Object[] reclaim(WorkloadSpec workload, Path workDir, int vmPages, long targetPages, long warmupPages,
                           int batchPages, boolean withProfile) throws Exception {
    String name = "reclaim-b" + batchPages;
    BalloonDriver.Config config = BalloonDriver.Config.defaults(name).withPollInterval(poll)
        .withBatchPages(batchPages).withCapFraction(cap);
    BalloonGuest g = boot(name, workload, workDir, vmPages, config, true);
    try {
      int granted = Math.min(batchPages, hypervisorBalloonBatch);
      progress(name + ": " + vmMemory + " guest (vm " + g.vmId() + "), idle after writing " + footprint
          + "; driver batch " + batchPages + (batchPages == BalloonDriver.Config.DEFAULT_BATCH_PAGES
              ? " (default)" : "") + "; warm-up " + warmupTarget + ", then " + repeats + " x (inflate to "
          + target + ", deflate to 0)");
      Move warm = null;
      if (warmupPages > 0) {
        warm = move(g, batchPages, warmupPages);
        move(g, batchPages, 0);
      }
      // After the warm-up, so the probe's code is compiled as the driver's is.
      Profile profile = withProfile ? vcpuProbe(g) : null;
      List<Move> in = new ArrayList<>();
      List<Move> outMoves = new ArrayList<>();
      for (int r = 0; r < repeats; r++) {
        Move m = move(g, batchPages, targetPages);
        in.add(m);
        progress(String.format(Locale.ROOT, "  inflate %d: %s in %.1f ms = %s; deflate...", r + 1,
            MemorySize.humanPages(targetPages), m.doneNanos() / 1e6, rate(m.pagesPerSecond())));
        outMoves.add(move(g, batchPages, 0));
      }
      audit(g);
      return new Object[] {new Reclaim(batchPages, granted, in, outMoves, warm), profile};
    } finally {
      g.close();
      liveGuests.remove(g);
    }
  }

  private BalloonGuest boot(String name, WorkloadSpec workload, Path workDir, int vmPages, BalloonDriver.Config config,
                            boolean doorbell) throws InterruptedException {
    BalloonGuest g = BalloonGuest.start(hypervisor.target(), name, vmPages, workload,
        workDir.resolve(name + ".swap"), config, doorbell, 16384, 4, 10_000, seed);
    liveGuests.add(g);
    g.awaitReady(timeout, doorbell);
    return g;
  }

  /**
   * Sets the target to {@code goal} and waits until the driver has it: the last Lock (or Unlock) reply that
   * gets the balloon there. Then confirms with GetVm that the hypervisor counts the same.
   */
  private Move move(BalloonGuest g, int batchPages, long goal) throws InterruptedException {
    InstrumentedBalloonHost host = g.host();
    long size = g.driver().size();
    if (size == goal) {
      return null;
    }
    boolean inflate = goal > size;
    InstrumentedBalloonHost.Counts h0 = host.counts();
    InstrumentedBalloonKernel.Counts k0 = g.kernel().counts();
    long cpu0 = processCpuNanos();
    long hv0 = hypervisor.cpuNanos();
    host.watch(inflate, (inflate ? h0.pagesLocked() : h0.pagesUnlocked()) + Math.abs(goal - size));
    long t0 = System.nanoTime();
    setTarget(g.vmId(), goal);
    long setCall = System.nanoTime() - t0;
    long seen = observer.equals("getvm") ? pollGetVm(g.vmId(), p -> p == goal) : 0;
    long[] w = host.awaitWatch(timeout.toNanos());
    if (w != null && seen != 0) {
      w[1] = seen;
    }
    if (w == null || seen < 0) {
      throw new IllegalStateException(g.name() + ": the balloon did not reach " + goal + " pages within "
          + timeout.toSeconds() + " s; driver " + g.driver().stats());
    }
    long cpu1 = processCpuNanos();
    long hv1 = hypervisor.cpuNanos();
    boolean confirmed = awaitHypervisorSize(g.vmId(), goal);
    // The driver files the last batch into its list a moment after the Lock reply the watch saw.
    long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    while (g.driver().size() != goal && System.nanoTime() - settle < 0) {
      Thread.sleep(1);
    }
    if (g.driver().size() != goal) {
      throw new IllegalStateException(g.name() + ": the driver holds " + g.driver().size() + " pages, not " + goal);
    }
    return new Move(batchPages, Math.abs(goal - size), setCall, w[0] - t0, w[1] - t0, confirmed,
        host.counts().minus(h0), g.kernel().counts().minus(k0), cpu1 - cpu0, hv0 < 0 || hv1 < 0 ? -1 : hv1 - hv0);
  }

  /**
   * For {@code --observer getvm}: polls GetVm every millisecond until the hypervisor's balloon size satisfies
   * {@code done}; answers the {@link System#nanoTime()} of the answer that did, or -1 after {@code --timeout}.
   */
  private long pollGetVm(int vmId, java.util.function.LongPredicate done) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long next = System.nanoTime();
    while (true) {
      long size = getVm(vmId).getBalloon().getSizePages();
      long now = System.nanoTime();
      if (done.test(size)) {
        return now;
      }
      if (now - deadline > 0) {
        return -1;
      }
      next += 1_000_000;
      long wait = next - System.nanoTime();
      if (wait > 0) {
        TimeUnit.NANOSECONDS.sleep(wait);
      } else {
        next = System.nanoTime();
      }
    }
  }

  /** Polls GetVm (every millisecond, at most 2 s) until the hypervisor's balloon holds {@code goal} pages. */
  private boolean awaitHypervisorSize(int vmId, long goal) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    while (true) {
      if (getVm(vmId).getBalloon().getSizePages() == goal) {
        return true;
      }
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      Thread.sleep(1);
    }
  }

  // ---------------------------------------------------------------------------------------------- latency

  private Latency latency(WorkloadSpec workload, Path workDir, int vmPages, boolean doorbell) throws Exception {
    String name = doorbell ? "latency-doorbell" : "latency-poll";
    BalloonDriver.Config config = BalloonDriver.Config.defaults(name).withPollInterval(poll).withCapFraction(cap);
    BalloonGuest g = boot(name, workload, workDir, vmPages, config, doorbell);
    SplittableRandom random = new SplittableRandom(seed * 31 + (doorbell ? 1 : 2));
    long jitterNanos = doorbell ? TimeUnit.MILLISECONDS.toNanos(20) : poll.toNanos();
    try {
      progress(name + ": default driver (batch " + config.batchPages() + ", poll " + FigureTable.duration(poll) + ", "
          + (doorbell ? "doorbell" : "no doorbell: polling only") + "); " + latencyReps + " target changes of +"
          + latencyStep + " page(s), each after a random wait under "
          + FigureTable.duration(Duration.ofNanos(jitterNanos)));
      long goal = 0;
      int warmups = doorbell ? 20 : 0;
      long[] delays = new long[latencyReps];
      long[] setCalls = new long[latencyReps];
      long[][] steps = new long[STEPS.length][latencyReps];
      BalloonDriver.Stats s0 = null;
      for (int i = -warmups; i < latencyReps; i++) {
        if (i == 0) {
          s0 = g.driver().stats();
        }
        TimeUnit.NANOSECONDS.sleep(random.nextLong(jitterNanos));
        InstrumentedBalloonHost host = g.host();
        long before = host.counts().pagesLocked();
        goal += latencyStep;
        host.watch(true, before + latencyStep);
        long t0 = System.nanoTime();
        setTarget(g.vmId(), goal);
        long setCall = System.nanoTime() - t0;
        long previous = goal - latencyStep;
        long seen = observer.equals("getvm") ? pollGetVm(g.vmId(), p -> p > previous) : 0;
        long[] w = host.awaitWatch(timeout.toNanos());
        if (w != null && seen > 0) {
          w[0] = seen;
        }
        if (w == null) {
          throw new IllegalStateException(name + ": no page locked within " + timeout.toSeconds() + " s of target "
              + goal + "; driver " + g.driver().stats());
        }
        if (i >= 0) {
          delays[i] = w[0] - t0;
          setCalls[i] = setCall;
          // t0 -> ring (doorbell only) -> GetTarget starts -> GetTarget answered -> Lock starts -> Lock answered.
          long ring = w[2] != 0 ? w[2] : t0;
          steps[0][i] = w[2] != 0 ? w[2] - t0 : 0;
          steps[1][i] = w[3] != 0 ? w[3] - ring : -1;
          steps[2][i] = w[3] != 0 ? w[4] - w[3] : -1;
          steps[3][i] = w[3] != 0 && w[5] != 0 ? w[5] - w[4] : -1;
          steps[4][i] = w[5] != 0 ? w[0] - w[5] : -1;
        }
      }
      if (!awaitHypervisorSize(g.vmId(), goal)) {
        throw new IllegalStateException(name + ": the hypervisor's balloon is not at " + goal + " pages");
      }
      BalloonDriver.Stats s1 = g.driver().stats();
      long[] getVm = new long[50];
      for (int i = 0; i < getVm.length; i++) {
        long t0 = System.nanoTime();
        getVm(g.vmId());
        getVm[i] = System.nanoTime() - t0;
      }
      progress(String.format(Locale.ROOT, "  first locked page after median %.2f ms, max %.2f ms",
          median(delays) / 1e6, Arrays.stream(delays).max().orElse(0) / 1e6));
      audit(g);
      return new Latency(doorbell, delays, setCalls, s1.doorbellRings() - s0.doorbellRings(),
          s1.rounds() - s0.rounds(), steps, getVm);
    } finally {
      g.close();
      liveGuests.remove(g);
    }
  }

  // ---------------------------------------------------------------------------------------------- profile

  /**
   * The vCPU hop: how long {@code onCpu} takes for nothing (what every allocate and free the driver makes pays
   * on top of the work), and the guest OS's own cost per balloon page, run on the vCPU as the driver's kernel
   * runs it.
   */
  private Profile vcpuProbe(BalloonGuest g) {
    int n = 400;
    long[] hop = new long[n];
    for (int i = 0; i < n; i++) {
      long t0 = System.nanoTime();
      g.cpu().onCpu(() -> null);
      hop[i] = System.nanoTime() - t0;
    }
    int batch = 16384;
    int[] buf = new int[batch];
    long allocNs = 0;
    long freeNs = 0;
    long pagesDone = 0;
    for (int round = 0; round < 20; round++) {
      long[] t = g.cpu().onCpu(() -> {
        long a = System.nanoTime();
        int got = g.os().allocateBalloonPages(buf, batch);
        long b = System.nanoTime();
        g.os().freeBalloonPages(buf, got);
        long c = System.nanoTime();
        return new long[] {b - a, c - b, got};
      });
      if (round >= 10) {
        allocNs += t[0];
        freeNs += t[1];
        pagesDone += t[2];
      }
    }
    Arrays.sort(hop);
    return new Profile(hop, (double) allocNs / pagesDone, (double) freeNs / pagesDone, batch, Double.NaN, Double.NaN,
        0);
  }

  /**
   * The machine's own cost per page: a Machine in this JVM, a VM of the same size, its never-touched pages locked
   * and unlocked in batches exactly as the gRPC service calls it. Returns ns per page locked and unlocked (the
   * best of five rounds).
   */
  private double[] machineProbe(Path workDir, int vmPages, long pages, int batch) {
    // Frames enough to back the VM (the machine refuses a VM it could not back); only the P2M is touched.
    Machine machine = new Machine(new Machine.Config(vmPages, 16_384, workDir.resolve("probe-host.swap"), 16_384,
        CostModel.DEFAULT, 1, batch, Machine.Config.DEFAULT_BALLOON_STALL_NANOS));
    try {
      Vm vm = machine.powerOn("probe", "linux", vmPages);
      BalloonSession session = machine.openBalloonSession(vm, true, true, true);
      machine.setBalloonTarget(vm, pages);
      int[] pfns = new int[batch];
      BalloonPageStatus[] statuses = new BalloonPageStatus[batch];
      double lockNs = Double.MAX_VALUE;
      double unlockNs = Double.MAX_VALUE;
      for (int round = 0; round < 5; round++) {
        long t0 = System.nanoTime();
        for (long first = 0; first < pages; first += batch) {
          int k = (int) Math.min(batch, pages - first);
          for (int i = 0; i < k; i++) {
            pfns[i] = (int) (first + i);
          }
          Arrays.fill(statuses, null);
          machine.balloonLock(vm, session.id(), pfns, k, statuses);
        }
        long t1 = System.nanoTime();
        for (long first = 0; first < pages; first += batch) {
          int k = (int) Math.min(batch, pages - first);
          for (int i = 0; i < k; i++) {
            pfns[i] = (int) (first + i);
          }
          Arrays.fill(statuses, null);
          machine.balloonUnlock(vm, session.id(), pfns, k, statuses);
        }
        long t2 = System.nanoTime();
        // The best round: the machine's own cost, without the JIT or other processes' time slices in it.
        lockNs = Math.min(lockNs, (double) (t1 - t0) / pages);
        unlockNs = Math.min(unlockNs, (double) (t2 - t1) / pages);
      }
      return new double[] {lockNs, unlockNs};
    } finally {
      machine.close();
    }
  }

  // ------------------------------------------------------------------------------------------------ audit

  private void audit(BalloonGuest g) throws InterruptedException {
    BalloonGuest.Audit a = g.finish(this::getVm);
    audits.add(a);
    if (a.violations() > 0 || a.balloonInconsistencies() > 0) {
      progress("  AUDIT FAILED: " + a);
    }
  }

  // ------------------------------------------------------------------------------------------------ report

  private int[] report(List<Reclaim> reclaims, List<Latency> latencies, Profile profile, double seconds) {
    List<String[]> rows = new ArrayList<>();
    int misses = 0;
    long violations = 0;
    for (Reclaim r : reclaims) {
      double rate = r.medianInflateRate();
      boolean pass = rate >= TARGET_PAGES_PER_SECOND;
      misses += pass ? 0 : 1;
      rows.add(new String[] {"reclaim " + target + " (inflate), driver batch " + batchLabel(r.batchPages()),
          rate(rate), ">= " + rate(TARGET_PAGES_PER_SECOND), pass ? "PASS" : "MISS"});
    }
    for (Reclaim r : reclaims) {
      rows.add(new String[] {"give back " + target + " (deflate), driver batch " + batchLabel(r.batchPages()),
          rate(r.medianDeflateRate()), "(info)", ""});
    }
    for (Reclaim r : reclaims) {
      if (r.warmup() != null) {
        rows.add(new String[] {"  first inflation, cold JIT (untimed warm-up of " + MemorySize.humanPages(
            r.warmup().pages()) + "), batch " + r.batchPages(), rate(r.warmup().pagesPerSecond()), "(info)", ""});
      }
    }
    for (Latency l : latencies) {
      double med = median(l.firstLockNanos()) / 1e6;
      double max = Arrays.stream(l.firstLockNanos()).max().orElse(0) / 1e6;
      String value = String.format(Locale.ROOT, "median %.2f ms, max %.2f ms", med, max);
      if (l.doorbell()) {
        boolean pass = max < TARGET_DOORBELL_MS;
        misses += pass ? 0 : 1;
        rows.add(new String[] {"target change -> first locked page, doorbell", value,
            String.format(Locale.ROOT, "max < %.0f ms", TARGET_DOORBELL_MS), pass ? "PASS" : "MISS"});
      } else {
        rows.add(new String[] {"target change -> first locked page, polling only", value,
            "(info: <= poll " + FigureTable.duration(poll) + ")", ""});
      }
    }
    long integrity = 0;
    long isolation = 0;
    long inconsistencies = 0;
    for (BalloonGuest.Audit a : audits) {
      integrity += a.integrityViolations();
      isolation += a.isolationViolations();
      inconsistencies += a.balloonInconsistencies();
    }
    violations = integrity + isolation + inconsistencies;
    rows.add(new String[] {"integrity / isolation violations (" + audits.size() + " guests audited)",
        integrity + " / " + isolation, "0 / 0", integrity + isolation == 0 ? "PASS" : "FAIL"});
    rows.add(new String[] {"balloon faults, resets, size disagreements", Long.toString(inconsistencies), "0",
        inconsistencies == 0 ? "PASS" : "FAIL"});

    out.println();
    FigureTable.print(out, new String[] {"figure", "value", "target", "verdict"}, rows);
    out.println();
    for (Reclaim r : reclaims) {
      printReclaimDetail(r);
    }
    for (Latency l : latencies) {
      out.printf(Locale.ROOT, "  %s: first locked page after %s ms; %d doorbell rings, %d driver rounds%n",
          l.doorbell() ? "doorbell" : "polling only",
          Arrays.stream(l.firstLockNanos()).mapToObj(d -> String.format(Locale.ROOT, "%.2f", d / 1e6))
              .collect(Collectors.joining(" ")), l.doorbellRings(), l.rounds());
      StringBuilder b = new StringBuilder();
      for (int s = l.doorbell() ? 0 : 1; s < STEPS.length; s++) {
        long[] valid = Arrays.stream(l.steps()[s]).filter(v -> v >= 0).toArray();
        b.append(b.length() == 0 ? "" : ", ").append(STEPS[s]).append(' ')
            .append(String.format(Locale.ROOT, "%.2f", median(valid) / 1e6));
      }
      out.printf(Locale.ROOT, "    median steps (ms, from the SetBalloonTarget call%s): %s; the SetBalloonTarget call "
              + "itself %.2f ms, a GetVm %.2f ms%n", l.doorbell() ? "" : "; worker wakes = the poll",
          b, median(l.setCallNanos()) / 1e6, median(l.getVmNanos()) / 1e6);
    }
    for (BalloonGuest.Audit a : audits) {
      out.printf(Locale.ROOT, "  audit %s: integrity %d, isolation %d, balloon faults %d, hypervisor resets %d, "
              + "driver resets %d, driver host errors %d; balloon pages hypervisor/driver/guest OS %d/%d/%d%s%n",
          a.name(), a.integrityViolations(), a.isolationViolations(), a.balloonFaults(), a.balloonResets(),
          a.driverResets(), a.driverHostErrors(), a.hypervisorBalloonPages(), a.driverBalloonPages(),
          a.osBalloonPages(), a.vcpuFailure() == null ? "" : "; vCPU: " + a.vcpuFailure());
    }
    if (profile != null) {
      printProfile(profile, reclaims);
    }
    out.printf(Locale.ROOT, "  total run time %.1f s%n", seconds);
    out.flush();
    return new int[] {misses, (int) Math.min(Integer.MAX_VALUE, violations)};
  }

  private void printReclaimDetail(Reclaim r) {
    out.printf(Locale.ROOT, "  batch %s (hypervisor grants up to %d): inflations %s; deflations %s%n",
        batchLabel(r.batchPages()), hypervisorBalloonBatch,
        r.inflations().stream().map(m -> String.format(Locale.ROOT, "%.1f ms", m.doneNanos() / 1e6))
            .collect(Collectors.joining(", ")),
        r.deflations().stream().map(m -> String.format(Locale.ROOT, "%.1f ms", m.doneNanos() / 1e6))
            .collect(Collectors.joining(", ")));
    Move m = medianMove(r.inflations());
    InstrumentedBalloonHost.Counts h = m.host();
    InstrumentedBalloonKernel.Counts k = m.kernel();
    double done = m.doneNanos();
    double lockPer = (double) h.lockNanos() / Math.max(1, h.lockCalls());
    double allocPer = (double) k.allocNanos() / Math.max(1, k.allocCalls());
    double rest = done - m.firstNanos() - h.lockNanos() - k.allocNanos();
    out.printf(Locale.ROOT, "    median inflation: SetBalloonTarget call %.2f ms, first page locked at %.2f ms, "
            + "done at %.1f ms (GetVm %s); %d Lock calls of %.0f pages, %d allocations, %d GetTarget%n",
        m.setCallNanos() / 1e6, m.firstNanos() / 1e6, done / 1e6, m.confirmed() ? "agrees" : "DISAGREES",
        h.lockCalls(), (double) h.lockedPagesAsked() / Math.max(1, h.lockCalls()), k.allocCalls(),
        h.getTargetCalls());
    out.printf(Locale.ROOT, "    where the wall time went: Lock round trips %.1f ms (%.0f us each, %.0f ns/page), "
            + "allocations on the vCPU %.1f ms (%.0f us each, %.0f ns/page), everything else %.1f ms (the "
            + "reaction to the new target, driver bookkeeping, the final round's GetTarget)%n",
        h.lockNanos() / 1e6, lockPer / 1e3, h.lockNanos() / (double) Math.max(1, h.pagesLocked()),
        k.allocNanos() / 1e6, allocPer / 1e3, k.allocNanos() / (double) Math.max(1, k.allocPages()),
        rest / 1e6 + m.firstNanos() / 1e6);
    if (m.hypervisorCpuNanos() >= 0) {
      out.printf(Locale.ROOT, "    CPU while inflating: this JVM %.2f cores, hypervisor JVM %.2f cores (of %d)%n",
          m.harnessCpuNanos() / done, m.hypervisorCpuNanos() / done, Runtime.getRuntime().availableProcessors());
    }
    if (r.warmup() != null) {
      out.printf(Locale.ROOT, "    untimed warm-up: %s in %.1f ms (%s)%n", MemorySize.humanPages(r.warmup().pages()),
          r.warmup().doneNanos() / 1e6, rate(r.warmup().pagesPerSecond()));
    }
  }

  private void printProfile(Profile p, List<Reclaim> reclaims) {
    out.println("  profile:");
    if (p.onCpuNanos().length > 0) {
      long[] h = p.onCpuNanos();
      out.printf(Locale.ROOT, "    vCPU hop (Vcpu.onCpu of nothing, back to back): median %.1f us, p90 %.1f us, max %.1f us"
              + "%n", h[h.length / 2] / 1e3, h[(int) (h.length * 0.9)] / 1e3, h[h.length - 1] / 1e3);
      out.printf(Locale.ROOT, "    GuestOs on the vCPU, batches of %d: allocateBalloonPages %.1f ns/page, "
          + "freeBalloonPages %.1f ns/page%n", p.osProbeBatch(), p.osAllocNsPerPage(), p.osFreeNsPerPage());
    }
    if (!Double.isNaN(p.machineLockNsPerPage())) {
      out.printf(Locale.ROOT, "    Machine in this JVM, batches of %d untouched pages: balloonLock %.1f ns/page, "
          + "balloonUnlock %.1f ns/page%n", p.machineBatch(), p.machineLockNsPerPage(), p.machineUnlockNsPerPage());
    }
    for (Reclaim r : reclaims) {
      Move m = medianMove(r.inflations());
      InstrumentedBalloonHost.Counts h = m.host();
      double perCall = (double) h.lockNanos() / Math.max(1, h.lockCalls());
      double pagesPerCall = (double) h.pagesLocked() / Math.max(1, h.lockCalls());
      double machinePart = Double.isNaN(p.machineLockNsPerPage()) ? 0 : p.machineLockNsPerPage() * pagesPerCall;
      out.printf(Locale.ROOT, "    batch %s: a Lock round trip of %.0f pages takes %.0f us, of which the machine's "
              + "own work is about %.0f us; the rest (%.0f us, %.0f ns/page) is gRPC and protobuf on both sides%n",
          batchLabel(r.batchPages()), pagesPerCall, perCall / 1e3, machinePart / 1e3, (perCall - machinePart) / 1e3,
          (perCall - machinePart) / Math.max(1, pagesPerCall));
    }
  }

  private static Move medianMove(List<Move> moves) {
    List<Move> sorted = new ArrayList<>(moves);
    sorted.sort((a, b) -> Long.compare(a.doneNanos(), b.doneNanos()));
    return sorted.get(sorted.size() / 2);
  }

  private static String batchLabel(int b) {
    return b + (b == BalloonDriver.Config.DEFAULT_BATCH_PAGES ? " (default)" : "");
  }

  private void printSetup(Set<Part> parts, long vmPages, long targetPages) {
    out.println("BalloonLab balloon benchmark");
    out.printf("  java %s, %d CPUs, max heap %s; parts %s%n", System.getProperty("java.version"),
        Runtime.getRuntime().availableProcessors(), MemorySize.humanPages(Runtime.getRuntime().maxMemory() / PAGE),
        parts.stream().map(p -> p.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", ")));
    out.printf(Locale.ROOT, "  machine %s; each guest %s (%d pages), idle after writing %s; target %s (%d pages); "
            + "cap %.2f; poll %s; driver batches %s; hypervisor --balloon-batch %d; observed by %s%n",
        machineMemory, vmMemory, vmPages, footprint, target, targetPages, cap, FigureTable.duration(poll),
        Arrays.stream(batches).mapToObj(BalloonBenchmark::batchLabel).collect(Collectors.joining(", ")),
        hypervisorBalloonBatch, observer.equals("getvm") ? "GetVm every 1 ms" : "the driver, in process");
    out.flush();
  }

  private void progress(String line) {
    out.println("... " + line);
    out.flush();
  }

  private static String rate(double pagesPerSecond) {
    return String.format(Locale.ROOT, "%,.0f pages/s (%.2f GiB/s)", pagesPerSecond, pagesPerSecond * PAGE / GIB);
  }

  static double median(double[] values) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] s = values.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  static double median(long[] values) {
    return median(Arrays.stream(values).asDoubleStream().toArray());
  }

  // ------------------------------------------------------------------------------------------------ plumbing

  private void setTarget(int vmId, long pages) {
    management.withDeadlineAfter(10, TimeUnit.SECONDS).setBalloonTarget(SetBalloonTargetRequest.newBuilder()
        .setVm(VmSelector.newBuilder().setVmId(vmId)).setTargetPages(pages).build());
  }

  private VmState getVm(int vmId) {
    return management.withDeadlineAfter(10, TimeUnit.SECONDS).getVm(GetVmRequest.newBuilder().setVmId(vmId).build());
  }

  private static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }

  private long pages(MemorySize size, String option) {
    try {
      return size.requirePages(option);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  private void check(boolean ok, String message) {
    if (!ok) {
      throw new CommandLine.ParameterException(spec.commandLine(), message);
    }
  }

}
