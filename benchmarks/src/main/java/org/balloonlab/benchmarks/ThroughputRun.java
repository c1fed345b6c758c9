package org.balloonlab.benchmarks;

import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.balloonlab.guest.os.GuestCounters;
import org.balloonlab.guest.os.GuestOs;
import org.balloonlab.guest.os.GuestProcess;
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
 *       both sides of the wire before anything is timed.
 *   <li><b>Measure</b> for a fixed wall time on the guest's own {@link Vcpu}, as the guest agent runs it: the
 *       vCPU is stopped by a timer and its final flush, which waits for every access to be answered and checked,
 *       is inside the timed interval. Accesses counted are the guest's; the rate is accesses over that interval.
 * </ol>
 * Afterwards (untimed) every page is read back and checked, so a run that lost or mixed up a page reports
 * integrity or isolation violations.
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
   * @param integrityViolations reads that returned a wrong value, whole run and audit included
   * @param isolationViolations reads that returned another VM's token, whole run and audit included
   */
  record Result(long accesses, long elapsedNs, long warmupAccesses, long trueFaults, long simulatedNs,
                long integrityViolations, long isolationViolations) {
    double accessesPerSecond() {
      return accesses * 1e9 / elapsedNs;
    }

    double nanosPerAccess() {
      return (double) elapsedNs / accesses;
    }

    boolean clean() {
      return integrityViolations == 0 && isolationViolations == 0;
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

  /** Runs the three steps on {@code os}, from the calling thread, and audits every page at the end. */
  Result run(GuestOs os) {
    GuestCounters c = os.counters();
    Vcpu vcpu = new Vcpu(os, new Vcpu.Options(sliceAccesses, TimeUnit.MILLISECONDS.toNanos(100),
        TimeUnit.MILLISECONDS.toNanos(5), 0, 0, seed));
    GuestProcess process = vcpu.start("bench", workload.create());

    for (int vpn = 0; vpn < workload.footprintPages(); vpn++) {
      os.access(process, vpn, true);
    }
    warmUp(os, process);
    os.memory().flush();
    long warmupAccesses = c.accesses();

    long faultsBefore = c.trueFaults();
    long simulatedBefore = os.simulatedNs();
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "measured-phase-timer");
      t.setDaemon(true);
      return t;
    });
    long start = System.nanoTime();
    long elapsed;
    try {
      timer.schedule(vcpu::stop, measured.toNanos(), TimeUnit.NANOSECONDS);
      vcpu.run();
      elapsed = System.nanoTime() - start;
    } finally {
      timer.shutdownNow();
    }
    long accesses = c.accesses() - warmupAccesses;
    long trueFaults = c.trueFaults() - faultsBefore;
    long simulated = os.simulatedNs() - simulatedBefore;

    vcpu.verifyAll();
    return new Result(accesses, elapsed, warmupAccesses, trueFaults, simulated, c.integrityViolations(),
        c.isolationViolations());
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
