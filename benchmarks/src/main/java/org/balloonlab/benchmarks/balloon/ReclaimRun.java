package org.balloonlab.benchmarks.balloon;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.balloonlab.benchmarks.CpuTime;
import org.balloonlab.benchmarks.Medians;
import org.balloonlab.units.MemorySize;

/**
 * The reclaim-rate part: for one driver batch size, a fresh guest; an untimed warm-up inflation and deflation
 * (the JIT), then {@code --repeats} timed inflations to {@code --target}, each followed by a timed deflation to 0.
 *
 * <p>A move is timed from the {@code SetBalloonTarget} call until the balloon holds its goal as the driver learns
 * it, from the Lock (or Unlock) reply that gets it there, seen by the {@link InstrumentedBalloonHost} the moment it
 * arrives; with {@code --observer getvm} until GetVm says so instead. Either way GetVm then confirms that the
 * hypervisor counts the same.
 */
final class ReclaimRun {
  /** One timed inflation or deflation. Times are nanoseconds from the start of the SetBalloonTarget call. */
  record Move(long pages, long setCallNanos, long firstNanos, long doneNanos, boolean confirmed,
              InstrumentedBalloonHost.Counts host, InstrumentedBalloonKernel.Counts kernel, long harnessCpuNanos,
              long hypervisorCpuNanos) {
    double pagesPerSecond() {
      return pages * 1e9 / doneNanos;
    }
  }

  /**
   * Everything one batch size gave.
   *
   * @param warmup the untimed first inflation, or {@code null} with no warm-up
   * @param vcpu the vCPU probe taken on this guest after its warm-up, or {@code null} when not asked for
   */
  record Reclaim(int batchPages, List<Move> inflations, List<Move> deflations, Move warmup, Profile.VcpuCost vcpu) {
    double medianInflateRate() {
      return Medians.of(inflations.stream().mapToDouble(Move::pagesPerSecond).toArray());
    }

    double medianDeflateRate() {
      return Medians.of(deflations.stream().mapToDouble(Move::pagesPerSecond).toArray());
    }

    /** The inflation of median duration, the one the report takes apart. */
    Move medianInflation() {
      List<Move> sorted = new ArrayList<>(inflations);
      sorted.sort((a, b) -> Long.compare(a.doneNanos(), b.doneNanos()));
      return sorted.get(sorted.size() / 2);
    }
  }

  private final BalloonOptions options;
  private final BalloonHarness harness;
  private final long targetPages;
  private final long warmupPages;
  private final Consumer<String> progress;

  ReclaimRun(BalloonOptions options, BalloonHarness harness, long targetPages, long warmupPages,
             Consumer<String> progress) {
    this.options = options;
    this.harness = harness;
    this.targetPages = targetPages;
    this.warmupPages = warmupPages;
    this.progress = progress;
  }

  /**
   * Measures driver batch size {@code batchPages} on a guest of its own.
   *
   * @param probeVcpu whether to take the {@link Profile#probeVcpu vCPU probe} on this guest too
   */
  Reclaim measure(int batchPages, boolean probeVcpu) throws Exception {
    String name = "reclaim-b" + batchPages;
    BalloonGuest g = harness.boot(name, options.driverConfig(name).withBatchPages(batchPages), true);
    try {
      progress.accept(name + ": " + options.vmMemory + " guest (vm " + g.vmId() + "), idle after writing "
          + options.footprint + "; driver batch " + BalloonReport.batchLabel(batchPages) + "; warm-up "
          + options.warmupTarget + ", then " + options.repeats + " x (inflate to " + options.target
          + ", deflate to 0)");
      Move warm = null;
      if (warmupPages > 0) {
        warm = move(g, warmupPages);
        move(g, 0);
      }
      // After the warm-up, so the probe's code is compiled as the driver's is.
      Profile.VcpuCost vcpu = probeVcpu ? Profile.probeVcpu(g) : null;
      List<Move> inflations = new ArrayList<>();
      List<Move> deflations = new ArrayList<>();
      for (int r = 0; r < options.repeats; r++) {
        Move m = move(g, targetPages);
        inflations.add(m);
        progress.accept(String.format(Locale.ROOT, "  inflate %d: %s in %.1f ms = %s; deflate...", r + 1,
            MemorySize.humanPages(targetPages), m.doneNanos() / 1e6, BalloonReport.rate(m.pagesPerSecond())));
        deflations.add(move(g, 0));
      }
      harness.audit(g);
      return new Reclaim(batchPages, inflations, deflations, warm, vcpu);
    } finally {
      harness.release(g);
    }
  }

  /**
   * Sets the target to {@code goal} and waits until the driver has it: the last Lock (or Unlock) reply that
   * gets the balloon there. Then confirms with GetVm that the hypervisor counts the same.
   *
   * @return the move, or {@code null} if the balloon held {@code goal} already
   */
  private Move move(BalloonGuest g, long goal) throws InterruptedException {
    InstrumentedBalloonHost host = g.host();
    Operator operator = harness.operator();
    long size = g.driver().size();
    if (size == goal) {
      return null;
    }
    boolean inflate = goal > size;
    InstrumentedBalloonHost.Counts h0 = host.counts();
    InstrumentedBalloonKernel.Counts k0 = g.kernel().counts();
    long cpu0 = CpuTime.thisJvmNanos();
    long hv0 = harness.hypervisorCpuNanos();
    host.watch(inflate, (inflate ? h0.pagesLocked() : h0.pagesUnlocked()) + Math.abs(goal - size));
    long t0 = System.nanoTime();
    operator.setBalloonTarget(g.vmId(), goal);
    long setCall = System.nanoTime() - t0;
    long seen = options.observesByGetVm() ? operator.awaitBalloonSize(g.vmId(), p -> p == goal, options.timeout)
        : 0;
    long[] w = host.awaitWatch(options.timeout.toNanos());
    if (w != null && seen != 0) {
      w[1] = seen;
    }
    if (w == null || seen < 0) {
      throw new IllegalStateException(g.name() + ": the balloon did not reach " + goal + " pages within "
          + options.timeout.toSeconds() + " s; driver " + g.driver().stats());
    }
    long cpu1 = CpuTime.thisJvmNanos();
    long hv1 = harness.hypervisorCpuNanos();
    boolean confirmed = operator.confirmBalloonSize(g.vmId(), goal);
    // The driver files the last batch into its list a moment after the Lock reply the watch saw.
    long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    while (g.driver().size() != goal && System.nanoTime() - settle < 0) {
      Thread.sleep(1);
    }
    if (g.driver().size() != goal) {
      throw new IllegalStateException(g.name() + ": the driver holds " + g.driver().size() + " pages, not " + goal);
    }
    return new Move(Math.abs(goal - size), setCall, w[0] - t0, w[1] - t0, confirmed,
        host.counts().minus(h0), g.kernel().counts().minus(k0), cpu1 - cpu0, hv0 < 0 || hv1 < 0 ? -1 : hv1 - hv0);
  }
}
