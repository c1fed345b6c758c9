package org.balloonlab.benchmarks.dataplane;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.LongSummaryStatistics;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.balloonlab.benchmarks.CpuTime;
import org.balloonlab.benchmarks.Medians;
import org.balloonlab.guest.os.GuestCounters;
import org.balloonlab.guest.os.GuestOs;
import org.balloonlab.guest.os.GuestProcess;
import org.balloonlab.guest.vcpu.LabClockLink;
import org.balloonlab.guest.vcpu.Vcpu;
import org.balloonlab.guest.workload.Workload;
import org.balloonlab.guest.workload.WorkloadSpec;

/**
 * Drives one guest OS with a workload and measures how many accesses per second of wall time its data plane
 * carries, whatever backs its memory.
 *
 * <p>Three steps, the same for every backing:
 * <ol>
 *   <li><b>Touch</b> every page of the workload's footprint once (a write), so the measured phase sees no
 *       first-touch faults, neither the guest's true faults nor the hypervisor's demand-zero hidden faults: it
 *       measures the steady-state data plane, not allocation.
 *   <li><b>Warm up</b> for a fixed wall time with the workload itself, so the JIT has compiled the access path on
 *       both sides of the wire before anything is timed. gRPC and Netty are large: on a 2-core host C2 keeps
 *       compiling them for several seconds, and while it does it takes a core from the data plane.
 *   <li><b>Measure</b> for a fixed wall time on the guest's own {@link Vcpu}, as the guest agent runs it: the
 *       vCPU is stopped by a timer and its final flush, which waits for every access to be answered and checked,
 *       is inside the timed interval. Accesses counted are the guest's; the rate is accesses over that interval.
 *       On the lab clock the vCPU runs the quanta its link grants, as the guest agent's does; the first two steps
 *       run outside any quantum but in the VM's turns (its batches are applied during the first quantum, which
 *       the vCPU then takes), so every quantum the vCPU takes falls in the measured phase.
 * </ol>
 * Afterwards (untimed) every page is read back and checked, so a run that lost or mixed up a page reports
 * integrity or isolation violations.
 *
 * <p>Besides the rate, the measured phase records where the CPU went (the vCPU thread, this whole JVM, and the
 * hypervisor's JVM when it has its own) and the rate of each whole second, which shows whether the figure was
 * steady or still climbing with the JIT.
 */
final class ThroughputRun {

  /**
   * What one run measured.
   *
   * @param accesses accesses made in the measured phase
   * @param elapsedNs wall time of the measured phase, final flush included
   * @param warmupAccesses accesses made while warming up (touch included)
   * @param trueFaults guest page faults in the measured phase (0 when the footprint fits in guest memory)
   * @param simulatedNs the guest's simulated clock advance in the measured phase
   * @param vcpuCpuNs CPU time of the vCPU thread in the measured phase
   * @param processCpuNs CPU time of this JVM in the measured phase, all threads (-1 if unknown)
   * @param hypervisorCpuNs CPU time of the hypervisor's own JVM in the measured phase (-1 if none or unknown)
   * @param perSecond accesses per second of each whole second of the measured phase, in order
   * @param integrityViolations reads that returned a wrong value, whole run and audit included
   * @param isolationViolations reads that returned another VM's token, whole run and audit included
   */
  record Result(long accesses, long elapsedNs, long warmupAccesses, long trueFaults, long simulatedNs,
                long vcpuCpuNs, long processCpuNs, long hypervisorCpuNs, long[] perSecond,
                long integrityViolations, long isolationViolations) {
    double accessesPerSecond() {
      return accesses * 1e9 / elapsedNs;
    }

    double nanosPerAccess() {
      return (double) elapsedNs / accesses;
    }

    long violations() {
      return integrityViolations + isolationViolations;
    }

    /** Whether the figure was steady: {@code per second min 1.20M, median 1.40M, max 1.50M}; empty under 1 s. */
    String steadiness() {
      if (perSecond.length == 0) {
        return "";
      }
      LongSummaryStatistics s = Arrays.stream(perSecond).summaryStatistics();
      return String.format(Locale.ROOT, "per second min %s, median %s, max %s", millions(s.getMin()),
          millions((long) Medians.of(perSecond)), millions(s.getMax()));
    }

    /** Where the CPU went while measured: {@code vCPU thread busy 74 %, this JVM 1.02 cores, hypervisor JVM ...}. */
    String cpu() {
      double wall = elapsedNs;
      StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "vCPU thread busy %.0f %%", 100 * vcpuCpuNs
          / wall));
      if (processCpuNs >= 0) {
        b.append(String.format(Locale.ROOT, ", this JVM %.2f cores", processCpuNs / wall));
      }
      if (hypervisorCpuNs >= 0) {
        b.append(String.format(Locale.ROOT, ", hypervisor JVM %.2f cores", hypervisorCpuNs / wall));
      }
      return b.toString();
    }

    private static String millions(long perSecond) {
      return String.format(Locale.ROOT, "%.2fM", perSecond / 1e6);
    }
  }

  private static final int WARMUP_CHECK_EVERY = 4096;

  private final WorkloadSpec workload;
  private final Duration warmup;
  private final Duration measured;
  private final int sliceAccesses;
  private final long seed;

  ThroughputRun(WorkloadSpec workload, Duration warmup, Duration measured, int sliceAccesses, long seed) {
    this.workload = workload;
    this.warmup = warmup;
    this.measured = measured;
    this.sliceAccesses = sliceAccesses;
    this.seed = seed;
  }

  int footprintPages() {
    return workload.footprintPages();
  }

  /**
   * Runs the three steps on {@code os}, from the calling thread, and audits every page at the end.
   *
   * @param hypervisorCpuNanos CPU time used so far by the hypervisor's JVM, or {@code null} when it runs in this
   *     one; answers -1 when it cannot tell
   * @param labClock the lab clock's grants when the hypervisor keeps one, or {@code null} to run free
   */
  Result run(GuestOs os, LongSupplier hypervisorCpuNanos, LabClockLink labClock) {
    GuestCounters c = os.counters();
    // The guest agent's options: reports every 100 ms and a 5 ms idle tick, both simulated.
    Vcpu vcpu = new Vcpu(os, new Vcpu.Options(sliceAccesses, TimeUnit.MILLISECONDS.toNanos(100),
        TimeUnit.MILLISECONDS.toNanos(5), 0, 0, seed), labClock);
    // As the agent does: a workload that ends by itself is audited on the clock (ours never ends; it is stopped).
    vcpu.auditOnTheClock(true);
    GuestProcess process = vcpu.start("bench", workload.create());

    for (int vpn = 0; vpn < workload.footprintPages(); vpn++) {
      os.access(process, vpn, true);
    }
    warmUp(os, process);
    os.memory().flush();
    long warmupAccesses = c.accesses();

    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    int seconds = (int) Math.max(0, measured.toSeconds());
    // Read by the timer thread while the vCPU runs: a racy read of a plain counter, good enough for a per-second
    // display; the headline figure is the exact count taken after the run.
    long[] samples = new long[seconds + 1];
    samples[0] = warmupAccesses;
    int[] taken = {1};
    long faultsBefore = c.trueFaults();
    long simulatedBefore = os.simulatedNs();
    long hypervisorCpuBefore = hypervisorCpuNanos == null ? -1 : hypervisorCpuNanos.getAsLong();
    long processCpuBefore = CpuTime.thisJvmNanos();
    long vcpuCpuBefore = threads.getCurrentThreadCpuTime();
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "measured-phase-timer");
      t.setDaemon(true);
      return t;
    });
    long start = System.nanoTime();
    long elapsed;
    try {
      timer.scheduleAtFixedRate(() -> {
        if (taken[0] < samples.length) {
          samples[taken[0]++] = c.accesses();
        }
      }, 1, 1, TimeUnit.SECONDS);
      timer.schedule(vcpu::stop, measured.toNanos(), TimeUnit.NANOSECONDS);
      vcpu.run();
      elapsed = System.nanoTime() - start;
    } finally {
      timer.shutdownNow();
    }
    long vcpuCpu = threads.getCurrentThreadCpuTime() - vcpuCpuBefore;
    long processCpuAfter = CpuTime.thisJvmNanos();
    long processCpu = processCpuBefore < 0 || processCpuAfter < 0 ? -1 : processCpuAfter - processCpuBefore;
    long hypervisorCpuAfter = hypervisorCpuNanos == null ? -1 : hypervisorCpuNanos.getAsLong();
    long hypervisorCpu = hypervisorCpuBefore < 0 || hypervisorCpuAfter < 0 ? -1
        : hypervisorCpuAfter - hypervisorCpuBefore;
    long accesses = c.accesses() - warmupAccesses;
    long trueFaults = c.trueFaults() - faultsBefore;
    long simulated = os.simulatedNs() - simulatedBefore;
    try {
      timer.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    long[] perSecond = new long[Math.max(0, Math.min(taken[0], samples.length) - 1)];
    for (int i = 0; i < perSecond.length; i++) {
      perSecond[i] = samples[i + 1] - samples[i];
    }

    vcpu.verifyAll();
    return new Result(accesses, elapsed, warmupAccesses, trueFaults, simulated, vcpuCpu, processCpu,
        hypervisorCpu, perSecond, c.integrityViolations(), c.isolationViolations());
  }

  /** The workload itself for the warm-up time, on a fresh instance so the measured phase starts from its start. */
  private void warmUp(GuestOs os, GuestProcess process) {
    Workload w = workload.create();
    SplittableRandom random = new SplittableRandom(~seed);
    long deadline = System.nanoTime() + warmup.toNanos();
    for (long n = 1; ; n++) {
      long a = w.next(random);
      if (a == Workload.DONE || a == Workload.IDLE) {
        return;
      }
      os.access(process, Workload.vpn(a), Workload.isWrite(a));
      if (n % WARMUP_CHECK_EVERY == 0 && System.nanoTime() - deadline >= 0) {
        return;
      }
    }
  }
}
