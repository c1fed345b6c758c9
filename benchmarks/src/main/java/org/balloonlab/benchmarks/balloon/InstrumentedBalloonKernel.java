package org.balloonlab.benchmarks.balloon;

import java.util.Objects;
import org.balloonlab.balloon.kernel.BalloonKernel;
import org.balloonlab.balloon.kernel.MemoryStats;
import org.balloonlab.balloon.kernel.OomNotifier;

/**
 * The guest kernel as the balloon driver sees it, passed through with a clock on every call, for
 * {@link BalloonBenchmark}: how long the driver waits for the guest (the hop onto the vCPU and the OS's own
 * work) per allocation and free.
 */
final class InstrumentedBalloonKernel implements BalloonKernel {
  /** Cumulative calls, wall nanoseconds and pages. */
  record Counts(long allocCalls, long allocNanos, long allocPages, long freeCalls, long freeNanos, long freePages,
                long statsCalls, long statsNanos) {
    Counts minus(Counts o) {
      return new Counts(allocCalls - o.allocCalls, allocNanos - o.allocNanos, allocPages - o.allocPages,
          freeCalls - o.freeCalls, freeNanos - o.freeNanos, freePages - o.freePages, statsCalls - o.statsCalls,
          statsNanos - o.statsNanos);
    }
  }

  private final BalloonKernel delegate;
  private long allocCalls;
  private long allocNanos;
  private long allocPages;
  private long freeCalls;
  private long freeNanos;
  private long freePages;
  private long statsCalls;
  private long statsNanos;

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
    long t0 = System.nanoTime();
    delegate.freePages(pfns, count);
    long t1 = System.nanoTime();
    synchronized (this) {
      freeCalls++;
      freeNanos += t1 - t0;
      freePages += count;
    }
  }

  @Override
  public MemoryStats stats() {
    long t0 = System.nanoTime();
    MemoryStats s = delegate.stats();
    long t1 = System.nanoTime();
    synchronized (this) {
      statsCalls++;
      statsNanos += t1 - t0;
    }
    return s;
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
    return new Counts(allocCalls, allocNanos, allocPages, freeCalls, freeNanos, freePages, statsCalls, statsNanos);
  }
}
