package org.balloonlab.benchmarks.balloon;

import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.balloonlab.benchmarks.BenchmarkCommand;
import org.balloonlab.benchmarks.FigureTable;
import org.balloonlab.guest.workload.WorkloadSpec;
import org.balloonlab.hypervisor.machine.Machine;
import org.balloonlab.units.MemorySize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The balloon benchmark: how fast the balloon reclaims a guest's idle memory end to end, and how soon the driver
 * reacts to a new target.
 *
 * <p>The hypervisor runs in its own JVM, as a lab starts it; this JVM plays the guest agent, wired exactly as
 * {@code GuestAgentCommand} wires it ({@link BalloonGuest}), with an idle workload: a process that wrote a small
 * footprint once and sleeps, so nearly all of the guest's memory is free and the balloon takes it without the
 * guest paging. The operator's side is {@code ManagementService} on a channel of its own.
 * <ol>
 *   <li><b>Reclaim rate</b> ({@link ReclaimRun}): for each driver batch size, a fresh guest; after an untimed
 *       warm-up inflation (the JIT), the target is set to {@code --target} and the time taken from the
 *       {@code SetBalloonTarget} call until the balloon holds the target, as the driver learns it from the last
 *       Lock reply (then confirmed with {@code GetVm}: the hypervisor's {@code balloon.size_pages}). Deflation
 *       back to 0 is timed too. Pages per second and GiB per second of simulated memory, median of
 *       {@code --repeats} runs.</li>
 *   <li><b>Reaction delay</b> ({@link LatencyRun}): a fresh guest with the default driver, its target raised by
 *       a page at a time; the delay from the {@code SetBalloonTarget} call to the first page locked, with the
 *       doorbell and with polling alone (the driver's host hides the doorbell). Before each change the harness
 *       waits a random time (under 20 ms with the doorbell, under one poll interval without) so the changes
 *       fall at random points of the driver's poll cycle.</li>
 * </ol>
 * Each guest is audited when it stops: every page the workload wrote read back and checked, and the balloon as
 * the hypervisor, the driver and the guest OS count it must agree, with no balloon fault or reset. Any
 * violation fails the run (exit code 3). The {@code profile} section ({@link Profile}) explains where the time
 * goes: the vCPU hop the driver's kernel calls take, the guest OS's and the machine's own cost per page, and the
 * Lock round trip.
 *
 * <p>Run it with {@code benchmarks/run-balloon}.
 */
@Command(name = "balloon-benchmark",
    description = "Measures the balloon's end-to-end reclaim rate and the delay from a target change to the "
        + "first locked page, with the doorbell and with polling alone.",
    exitCodeList = {"0:the benchmark ran and every audit was clean",
        "1:a target was missed (with --strict) or the benchmark failed", "2:bad command line",
        "3:integrity or isolation violations, or the balloon's views disagreed"})
public final class BalloonBenchmark extends BenchmarkCommand {
  /** Pages per second the balloon must reclaim end to end (4 GiB/s of 4 KiB pages). */
  static final double TARGET_PAGES_PER_SECOND = 1_000_000;
  /** Most milliseconds from a target change to the first locked page with the doorbell. */
  static final double TARGET_DOORBELL_MS = 50;

  /** The parts of the benchmark, for {@code --only}. */
  enum Part { RECLAIM, LATENCY, PROFILE }

  /** Reads {@code reclaim}, {@code latency} or {@code profile}. */
  static final class PartConverter extends BenchmarkCommand.PartConverter<Part> {
    PartConverter() {
      super(Part.class);
    }
  }

  @Mixin
  BalloonOptions options;

  @Option(names = "--only", paramLabel = "PART", split = ",", converter = PartConverter.class,
      description = "Run only these parts, comma-separated: reclaim, latency, profile (default: all).")
  Set<Part> only;

  @Option(names = "--strict", description = "Exit with code 1 when a target is missed.")
  boolean strict;

  @Option(names = "--keep-work-dir",
      description = "Keep the work directory (hypervisor log, swap files) even when the run succeeds.")
  boolean keepWorkDir;

  /** For the shutdown hook: what to stop if the harness is killed midway. */
  private volatile BalloonHarness harness;
  private volatile Path workDir;

  public static void main(String[] args) {
    main(new BalloonBenchmark(), args);
  }

  @Override
  protected int run() throws Exception {
    BalloonOptions o = options;
    long vmPages = pages(o.vmMemory, "--vm-memory");
    long machinePages = pages(o.machineMemory, "--machine-memory");
    long footprintPages = pages(o.footprint, "--footprint");
    long targetPages = pages(o.target, "--target");
    long warmupPages = pages(o.warmupTarget, "--warmup-target");
    check(vmPages <= Machine.MAX_VM_PAGES && vmPages <= Integer.MAX_VALUE - 8,
        "--vm-memory " + o.vmMemory + " is more than a VM may have");
    check(machinePages <= Integer.MAX_VALUE - 8, "--machine-memory is more than the simulator holds");
    check(o.batches.length >= 1, "--batches needs at least one size");
    for (int b : o.batches) {
      check(b >= 1 && b <= o.hypervisorBalloonBatch, "--batches: each from 1 to --hypervisor-balloon-batch ("
          + o.hypervisorBalloonBatch + "), got " + b);
    }
    check(o.hypervisorBalloonBatch >= 1 && o.hypervisorBalloonBatch <= 1 << 16,
        "--hypervisor-balloon-batch must be from 1 to 65536");
    check(o.cap >= 0 && o.cap <= 1, "--cap must be from 0 to 1");
    long capPages = (long) Math.floor(o.cap * vmPages);
    check(targetPages >= 1 && targetPages <= capPages, "--target " + o.target + " must be positive and within the "
        + "cap (" + MemorySize.humanPages(capPages) + " = " + o.cap + " of " + o.vmMemory + ")");
    check(warmupPages <= capPages, "--warmup-target exceeds the cap");
    check(footprintPages + targetPages <= vmPages, "--footprint plus --target exceed --vm-memory: the guest "
        + "would page, and this benchmark times ballooning idle memory");
    check(o.repeats >= 1, "--repeats must be at least 1");
    check(o.latencyReps >= 1, "--latency-reps must be at least 1");
    check(o.latencyStep >= 1 && (long) o.latencyStep * (o.latencyReps + 3) <= capPages,
        "--latency-step out of range");
    check(!o.poll.isZero() && !o.poll.isNegative(), "--poll must be positive");
    check(!o.timeout.isZero() && !o.timeout.isNegative(), "--timeout must be positive");
    check(o.observer.equals("driver") || o.observer.equals("getvm"), "--observer must be driver or getvm");
    Set<Part> parts = parts(only, Part.class);
    WorkloadSpec workload = WorkloadSpec.parse("idle:footprint=" + o.footprint + ",writes=1");

    long started = System.nanoTime();
    BalloonReport report = new BalloonReport(o, out);
    report.printSetup(jvm(), partNames(parts), vmPages, targetPages);
    Path workDir = Files.createTempDirectory("balloonlab-balloon-bench-");
    this.workDir = workDir;
    Thread hook = new Thread(this::emergencyCleanup, "balloon-benchmark-cleanup");
    Runtime.getRuntime().addShutdownHook(hook);
    boolean ok = false;
    try {
      List<ReclaimRun.Reclaim> reclaims = new ArrayList<>();
      List<LatencyRun.Latency> latencies = new ArrayList<>();
      Profile profile = null;
      List<BalloonGuest.Audit> audits;
      try (BalloonHarness h = BalloonHarness.start(o, (int) vmPages, workload, workDir, this::progress)) {
        harness = h;
        if (parts.contains(Part.RECLAIM)) {
          ReclaimRun reclaim = new ReclaimRun(o, h, targetPages, warmupPages, this::progress);
          for (int i = 0; i < o.batches.length; i++) {
            reclaims.add(reclaim.measure(o.batches[i], i == 0 && parts.contains(Part.PROFILE)));
          }
        }
        if (parts.contains(Part.LATENCY)) {
          LatencyRun latency = new LatencyRun(o, h, this::progress);
          latencies.add(latency.measure(true));
          latencies.add(latency.measure(false));
        }
        if (parts.contains(Part.PROFILE)) {
          int probeBatch = Math.min(o.hypervisorBalloonBatch, 16384);
          progress("profile: Machine.balloonLock/balloonUnlock in this JVM, " + MemorySize.humanPages(targetPages)
              + " in batches of " + probeBatch);
          Profile.MachineCost machine = Profile.probeMachine(workDir, (int) vmPages, targetPages, probeBatch);
          profile = new Profile(reclaims.isEmpty() ? null : reclaims.get(0).vcpu(), machine);
        }
        audits = h.audits();
      } catch (IOException e) {
        err().println("balloon-benchmark: " + e.getMessage());
        return EXIT_FAILED;
      } catch (StatusRuntimeException e) {
        err().println("balloon-benchmark: the hypervisor failed a call: " + e.getStatus()
            + "; see its log in " + workDir);
        return EXIT_FAILED;
      } catch (IllegalStateException e) {
        err().println("balloon-benchmark: " + e.getMessage());
        return EXIT_FAILED;
      }
      FigureTable figures = report.print(reclaims, latencies, profile, audits, (System.nanoTime() - started) / 1e9);
      ok = figures.violations() == 0;
      return exitCode(figures, "integrity, isolation or balloon-consistency", strict, workDir);
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // Shutting down: the hook runs.
      }
      leave(workDir, ok, keepWorkDir, "hypervisor log");
    }
  }

  /** The shutdown hook: cuts every channel and stops the hypervisor if the harness is killed midway. */
  private void emergencyCleanup() {
    System.err.println("balloon-benchmark: interrupted; stopping the hypervisor; work directory kept: " + workDir);
    BalloonHarness h = harness;
    if (h != null) {
      h.cut();
    }
  }
}
