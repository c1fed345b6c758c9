package org.balloonlab.benchmarks.balloon;

import java.util.Objects;
import org.balloonlab.domain.kernel.BalloonKernel;
import org.balloonlab.domain.kernel.MemoryStats;
import org.balloonlab.domain.kernel.OomNotifier;

/**
 * The guest kernel as the balloon driver sees it, passed through with a clock on its allocations, for
 * {@link BalloonBenchmark}: how long an inflating driver waits for the guest (the hop onto the vCPU and the OS's
 * own work) per allocation.
 */
final class InstrumentedBalloonKernel implements BalloonKernel {
  /** Cumulative allocation calls, their wall nanoseconds and the pages they gave. */
  record Counts(long allocCalls, long allocNanos, long allocPages) {
    Counts minus(Counts o) {
      return new Counts(allocCalls - o.allocCalls, allocNanos - o.allocNanos, allocPages - o.allocPages);
    }
  }

  private final BalloonKernel delegate;
  // Guarded by this.
  private long allocCalls;
  private long allocNanos;
  private long allocPages;

  InstrumentedBalloonKernel(BalloonKernel delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  @Override
  public int allocatePages(int[] out, int count) {
    long t0 = System.nanoTime();
    int got = delegate.allocatePages(out, count);
    long t1 = System.nanoTime();
    synchronized (this) {
      allocCalls++;
      allocNanos += t1 - t0;
      allocPages += Math.max(0, got);
    }
    return got;
  }

  @Override
  public void freePages(int[] pfns, int count) {
    delegate.freePages(pfns, count);
  }

  @Override
  public MemoryStats stats() {
    return delegate.stats();
  }

  @Override
  public long totalPages() {
    return delegate.totalPages();
  }

  @Override
  public void registerOomNotifier(OomNotifier notifier) {
    delegate.registerOomNotifier(notifier);
  }

  synchronized Counts counts() {
    return new Counts(allocCalls, allocNanos, allocPages);
  }
}
