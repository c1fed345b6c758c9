package org.balloonlab.benchmarks.balloon;

import java.io.PrintWriter;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.balloonlab.balloon.driver.BalloonDriver;
import org.balloonlab.benchmarks.FigureTable;
import org.balloonlab.benchmarks.Medians;
import org.balloonlab.units.MemorySize;

/**
 * What the balloon benchmark prints: the setup it ran with, then the figures with their targets and verdicts,
 * then the details that explain them (each reclaim run's median inflation taken apart, each reaction's steps,
 * every guest's audit, and the profile).
 */
final class BalloonReport {
  private static final long PAGE = 4096;
  private static final double GIB = 1L << 30;

  private final BalloonOptions options;
  private final PrintWriter out;

  BalloonReport(BalloonOptions options, PrintWriter out) {
    this.options = options;
    this.out = out;
  }

  /** The header: this JVM, the parts to run and the options they run with. */
  void printSetup(String jvm, String parts, long vmPages, long targetPages) {
    out.println("BalloonLab balloon benchmark");
    out.printf("  %s; parts %s%n", jvm, parts);
    out.printf(Locale.ROOT, "  machine %s; each guest %s (%d pages), idle after writing %s; target %s (%d pages); "
            + "cap %.2f; poll %s; driver batches %s; hypervisor --balloon-batch %d; observed by %s%n",
        options.machineMemory, options.vmMemory, vmPages, options.footprint, options.target, targetPages, options.cap,
        FigureTable.duration(options.poll),
        Arrays.stream(options.batches).mapToObj(BalloonReport::batchLabel).collect(Collectors.joining(", ")),
        options.hypervisorBalloonBatch, options.observesByGetVm() ? "GetVm every 1 ms" : "the driver, in process");
    out.flush();
  }

  /**
   * Prints the figures and their details.
   *
   * @param profile {@code null} when the profile part did not run
   * @return the figures, with the misses and violations they found
   */
  FigureTable print(List<ReclaimRun.Reclaim> reclaims, List<LatencyRun.Latency> latencies, Profile profile,
                    List<BalloonGuest.Audit> audits, double seconds) {
    FigureTable figures = figures(reclaims, latencies, audits);
    figures.print(out);
    for (ReclaimRun.Reclaim r : reclaims) {
      printReclaimDetail(r);
    }
    for (LatencyRun.Latency l : latencies) {
      printLatencyDetail(l);
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
    return figures;
  }

  private FigureTable figures(List<ReclaimRun.Reclaim> reclaims, List<LatencyRun.Latency> latencies,
                              List<BalloonGuest.Audit> audits) {
    FigureTable figures = new FigureTable();
    for (ReclaimRun.Reclaim r : reclaims) {
      double rate = r.medianInflateRate();
      figures.target("reclaim " + options.target + " (inflate), driver batch " + batchLabel(r.batchPages()),
          rate(rate), ">= " + rate(BalloonBenchmark.TARGET_PAGES_PER_SECOND),
          rate >= BalloonBenchmark.TARGET_PAGES_PER_SECOND);
    }
    for (ReclaimRun.Reclaim r : reclaims) {
      figures.info("give back " + options.target + " (deflate), driver batch " + batchLabel(r.batchPages()),
          rate(r.medianDeflateRate()), "(info)");
    }
    for (ReclaimRun.Reclaim r : reclaims) {
      if (r.warmup() != null) {
        figures.info("  first inflation, cold JIT (untimed warm-up of " + MemorySize.humanPages(r.warmup().pages())
            + "), batch " + r.batchPages(), rate(r.warmup().pagesPerSecond()), "(info)");
      }
    }
    for (LatencyRun.Latency l : latencies) {
      double med = Medians.of(l.firstLockNanos()) / 1e6;
      double max = Arrays.stream(l.firstLockNanos()).max().orElse(0) / 1e6;
      String value = String.format(Locale.ROOT, "median %.2f ms, max %.2f ms", med, max);
      if (l.doorbell()) {
        figures.target("target change -> first locked page, doorbell", value,
            String.format(Locale.ROOT, "max < %.0f ms", BalloonBenchmark.TARGET_DOORBELL_MS),
            max < BalloonBenchmark.TARGET_DOORBELL_MS);
      } else {
        figures.info("target change -> first locked page, polling only", value,
            "(info: <= poll " + FigureTable.duration(options.poll) + ")");
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
    figures.audit("integrity / isolation violations (" + audits.size() + " guests audited)",
        integrity + " / " + isolation, "0 / 0", integrity + isolation);
    figures.audit("balloon faults, resets, size disagreements", Long.toString(inconsistencies), "0",
        inconsistencies);
    return figures;
  }

  private void printReclaimDetail(ReclaimRun.Reclaim r) {
    out.printf(Locale.ROOT, "  batch %s (hypervisor grants up to %d): inflations %s; deflations %s%n",
        batchLabel(r.batchPages()), options.hypervisorBalloonBatch, durations(r.inflations()),
        durations(r.deflations()));
    ReclaimRun.Move m = r.medianInflation();
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

  private void printLatencyDetail(LatencyRun.Latency l) {
    out.printf(Locale.ROOT, "  %s: first locked page after %s ms; %d doorbell rings, %d driver rounds%n",
        l.doorbell() ? "doorbell" : "polling only",
        Arrays.stream(l.firstLockNanos()).mapToObj(d -> String.format(Locale.ROOT, "%.2f", d / 1e6))
            .collect(Collectors.joining(" ")), l.doorbellRings(), l.rounds());
    StringBuilder b = new StringBuilder();
    // Without the doorbell there is no ring: the worker wakes at its poll.
    for (int s = l.doorbell() ? 0 : 1; s < LatencyRun.STEPS.length; s++) {
      long[] valid = Arrays.stream(l.steps()[s]).filter(v -> v >= 0).toArray();
      b.append(b.length() == 0 ? "" : ", ").append(LatencyRun.STEPS[s]).append(' ')
          .append(String.format(Locale.ROOT, "%.2f", Medians.of(valid) / 1e6));
    }
    out.printf(Locale.ROOT, "    median steps (ms, from the SetBalloonTarget call%s): %s; the SetBalloonTarget call "
            + "itself %.2f ms, a GetVm %.2f ms%n", l.doorbell() ? "" : "; worker wakes = the poll",
        b, Medians.of(l.setCallNanos()) / 1e6, Medians.of(l.getVmNanos()) / 1e6);
  }

  private void printProfile(Profile p, List<ReclaimRun.Reclaim> reclaims) {
    out.println("  profile:");
    Profile.VcpuCost v = p.vcpu();
    if (v != null) {
      long[] h = v.hopNanos();
      out.printf(Locale.ROOT, "    vCPU hop (Vcpu.onCpu of nothing, back to back): median %.1f us, p90 %.1f us, "
          + "max %.1f us%n", h[h.length / 2] / 1e3, h[(int) (h.length * 0.9)] / 1e3, h[h.length - 1] / 1e3);
      out.printf(Locale.ROOT, "    GuestOs on the vCPU, batches of %d: allocateBalloonPages %.1f ns/page, "
          + "freeBalloonPages %.1f ns/page%n", v.batch(), v.allocNsPerPage(), v.freeNsPerPage());
    }
    Profile.MachineCost c = p.machine();
    out.printf(Locale.ROOT, "    Machine in this JVM, batches of %d untouched pages: balloonLock %.1f ns/page, "
        + "balloonUnlock %.1f ns/page%n", c.batch(), c.lockNsPerPage(), c.unlockNsPerPage());
    for (ReclaimRun.Reclaim r : reclaims) {
      InstrumentedBalloonHost.Counts h = r.medianInflation().host();
      double perCall = (double) h.lockNanos() / Math.max(1, h.lockCalls());
      double pagesPerCall = (double) h.pagesLocked() / Math.max(1, h.lockCalls());
      double machinePart = c.lockNsPerPage() * pagesPerCall;
      out.printf(Locale.ROOT, "    batch %s: a Lock round trip of %.0f pages takes %.0f us, of which the machine's "
              + "own work is about %.0f us; the rest (%.0f us, %.0f ns/page) is gRPC and protobuf on both sides%n",
          batchLabel(r.batchPages()), pagesPerCall, perCall / 1e3, machinePart / 1e3, (perCall - machinePart) / 1e3,
          (perCall - machinePart) / Math.max(1, pagesPerCall));
    }
  }

  private static String durations(List<ReclaimRun.Move> moves) {
    return moves.stream().map(m -> String.format(Locale.ROOT, "%.1f ms", m.doneNanos() / 1e6))
        .collect(Collectors.joining(", "));
  }

  /** A driver batch size, marked when it is the driver's default: {@code 512 (default)}. */
  static String batchLabel(int b) {
    return b + (b == BalloonDriver.Config.DEFAULT_BATCH_PAGES ? " (default)" : "");
  }

  /** A reclaim rate in pages and in GiB of simulated memory per second. */
  static String rate(double pagesPerSecond) {
    return String.format(Locale.ROOT, "%,.0f pages/s (%.2f GiB/s)", pagesPerSecond, pagesPerSecond * PAGE / GIB);
  }
}
