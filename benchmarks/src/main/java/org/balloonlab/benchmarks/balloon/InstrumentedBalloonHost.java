package org.balloonlab.benchmarks.balloon;

import java.util.Objects;
import org.balloonlab.balloon.driver.BalloonHost;
import org.balloonlab.domain.kernel.MemoryStats;

/**
 * The balloon driver's {@link BalloonHost}, passed through with a clock on the calls the benchmark times, for
 * {@link BalloonBenchmark}. It sees what the driver sees the moment the driver sees it: the instant a Lock reply
 * says pages are locked is when the balloon grows, as the driver's {@code size()} would show a few nanoseconds
 * later. So the benchmark waits on this object instead of polling, and costs the driver at most two clock reads
 * and one uncontended monitor per call.
 *
 * <p>With {@code doorbell} false it also plays a driver without a doorbell: the sessions it reports grant none
 * and {@link #listenDoorbell} listens to nothing, so the driver only polls. The hypervisor still rings, to no
 * one.
 */
final class InstrumentedBalloonHost implements BalloonHost {
  /**
   * What the host saw, cumulative.
   *
   * @param lockNanos wall nanoseconds inside the delegate's Lock calls
   * @param pagesLocked pages a Lock reply said were locked
   * @param lockedPagesAsked pages the driver asked to lock
   * @param pagesUnlocked pages an Unlock reply said were out of the balloon
   */
  record Counts(long lockCalls, long lockNanos, long pagesLocked, long lockedPagesAsked, long pagesUnlocked,
                long getTargetCalls, long statsCalls) {
    Counts minus(Counts o) {
      return new Counts(lockCalls - o.lockCalls, lockNanos - o.lockNanos, pagesLocked - o.pagesLocked,
          lockedPagesAsked - o.lockedPagesAsked, pagesUnlocked - o.pagesUnlocked, getTargetCalls - o.getTargetCalls,
          statsCalls - o.statsCalls);
    }
  }

  private final BalloonHost delegate;
  private final boolean doorbell;

  // Guarded by this.
  private long lockCalls;
  private long lockNanos;
  private long pagesLocked;
  private long lockedPagesAsked;
  private long pagesUnlocked;
  private long getTargetCalls;
  private long statsCalls;
  /** A watch: the instant the locked (or unlocked) total first reaches {@code watchTotal}. */
  private boolean watchLocks;
  private long watchTotal = -1;
  private long watchReachedAt;
  private long watchFirstAt;
  /** The steps of the first reaction after arming: ring, GetTarget start and end, first Lock start. */
  private long ringAt;
  private long getTargetStartAt;
  private long getTargetEndAt;
  private long lockStartAt;
  private long armedAt;

  InstrumentedBalloonHost(BalloonHost delegate, boolean doorbell) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    this.doorbell = doorbell;
  }

  @Override
  public Session start() {
    Session s = delegate.start();
    return doorbell ? s : new Session(s.id(), s.maxBatchPages(), s.batched(), false, s.stats(), s.target());
  }

  @Override
  public Target getTarget(long sessionId, long balloonPages) {
    long t0 = System.nanoTime();
    Target t = delegate.getTarget(sessionId, balloonPages);
    long t1 = System.nanoTime();
    synchronized (this) {
      if (watchTotal >= 0 && getTargetStartAt == 0 && t0 - armedAt >= 0) {
        getTargetStartAt = t0;
        getTargetEndAt = t1;
      }
      getTargetCalls++;
    }
    return t;
  }

  @Override
  public Target lock(long sessionId, long requestId, int[] pfns, int count, PageStatus[] statuses) {
    long t0 = System.nanoTime();
    Target t = delegate.lock(sessionId, requestId, pfns, count, statuses);
    long t1 = System.nanoTime();
    int ok = count(statuses, count, PageStatus.OK);
    synchronized (this) {
      if (watchTotal >= 0 && lockStartAt == 0 && t0 - armedAt >= 0) {
        lockStartAt = t0;
      }
      lockCalls++;
      lockNanos += t1 - t0;
      pagesLocked += ok;
      lockedPagesAsked += count;
      if (watchLocks && ok > 0) {
        reached(pagesLocked, t1);
      }
    }
    return t;
  }

  @Override
  public Target unlock(long sessionId, long requestId, int[] pfns, int count, PageStatus[] statuses) {
    Target t = delegate.unlock(sessionId, requestId, pfns, count, statuses);
    long t1 = System.nanoTime();
    // A page the hypervisor did not hold is out of the balloon as surely as one it let go.
    int ok = count(statuses, count, PageStatus.OK) + count(statuses, count, PageStatus.NOT_LOCKED);
    synchronized (this) {
      pagesUnlocked += ok;
      if (!watchLocks && ok > 0) {
        reached(pagesUnlocked, t1);
      }
    }
    return t;
  }

  private static int count(PageStatus[] statuses, int count, PageStatus status) {
    int n = 0;
    for (int i = 0; i < count; i++) {
      if (statuses[i] == status) {
        n++;
      }
    }
    return n;
  }

  /** Called with the monitor held. */
  private void reached(long total, long now) {
    if (watchTotal < 0) {
      return;
    }
    if (watchFirstAt == 0) {
      watchFirstAt = now;
    }
    if (watchReachedAt == 0 && total >= watchTotal) {
      watchReachedAt = now;
      notifyAll();
    }
  }

  @Override
  public Target reportStats(long sessionId, MemoryStats stats) {
    Target t = delegate.reportStats(sessionId, stats);
    synchronized (this) {
      statsCalls++;
    }
    return t;
  }

  @Override
  public void awaitRetry(long nanos) {
    delegate.awaitRetry(nanos);
  }

  @Override
  public AutoCloseable listenDoorbell(long sessionId, Runnable ring) {
    if (!doorbell) {
      return () -> { };
    }
    return delegate.listenDoorbell(sessionId, () -> {
      long now = System.nanoTime();
      synchronized (this) {
        if (watchTotal >= 0 && ringAt == 0) {
          ringAt = now;
        }
      }
      ring.run();
    });
  }

  synchronized Counts counts() {
    return new Counts(lockCalls, lockNanos, pagesLocked, lockedPagesAsked, pagesUnlocked, getTargetCalls, statsCalls);
  }

  /**
   * Arms a watch for the moment the cumulative pages locked ({@code locks}) or unlocked reach {@code total}.
   * Arm it before the change that should get there.
   */
  synchronized void watch(boolean locks, long total) {
    watchLocks = locks;
    watchTotal = total;
    watchReachedAt = 0;
    watchFirstAt = 0;
    ringAt = 0;
    getTargetStartAt = 0;
    getTargetEndAt = 0;
    lockStartAt = 0;
    armedAt = System.nanoTime();
  }

  /**
   * Waits for the armed watch.
   *
   * @return {@code {firstNanos, reachedNanos, ringNanos, getTargetStartNanos, getTargetEndNanos, lockStartNanos}}:
   *     when the first page moved after arming, when the total was reached, and the steps of the first reaction
   *     (the first doorbell ring, GetTarget call and Lock call after arming; 0 for a step that did not happen),
   *     as {@link System#nanoTime()}; {@code null} on timeout
   */
  synchronized long[] awaitWatch(long timeoutNanos) throws InterruptedException {
    long deadline = System.nanoTime() + timeoutNanos;
    while (watchReachedAt == 0) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return null;
      }
      wait(Math.max(1, left / 1_000_000));
    }
    long[] r = {watchFirstAt, watchReachedAt, ringAt, getTargetStartAt, getTargetEndAt, lockStartAt};
    watchTotal = -1;
    return r;
  }
}
