package org.balloonlab.guest.vcpu;

import java.util.BitSet;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.balloonlab.domain.GuestStatus;
import org.balloonlab.guest.os.PhysicalMemory;

/**
 * Guest-physical memory whose hypervisor answers late, as a real one on a loaded machine does: accesses are stored
 * at once, but the hypervisor's charge for each batch (translation for every access, a demand-zero fault per first
 * touch) arrives on another thread after a random real delay. {@link #hypervisorNs()} therefore grows at moments that differ from run to
 * run; {@link #drainedHypervisorNs()} moves only when {@link #flush()} or {@link #readForSwapOut} has waited for
 * every batch, as the real memory's does.
 */
final class LaggingMemory implements PhysicalMemory {
  static final int BATCH = 64;
  static final long FIRST_TOUCH_NS = 2_500;
  static final long TRANSLATION_NS = 30;

  private final long[] pages;
  private final BitSet touched;
  private final ReadChecker checker;
  private final SplittableRandom delays;
  private final long maxDelayMicros;
  private final ScheduledExecutorService answers = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "lagging-answers");
    t.setDaemon(true);
    return t;
  });
  private int queued;
  private long queuedCharge;
  // Guarded by this.
  private int inFlight;
  private long hypervisorNs;
  // Owned by the vCPU.
  private long drainedNs;

  /** @param maxDelayMicros the longest delay of an answer; 0 answers every batch at once, on the caller's thread */
  LaggingMemory(int pages, ReadChecker checker, long delaySeed, long maxDelayMicros) {
    this.pages = new long[pages];
    this.touched = new BitSet(pages);
    this.checker = checker;
    this.delays = new SplittableRandom(delaySeed);
    this.maxDelayMicros = maxDelayMicros;
  }

  @Override
  public void write(int pfn, long token) {
    touch(pfn);
    pages[pfn] = token;
  }

  @Override
  public void read(int pfn, long expected) {
    touch(pfn);
    if (pages[pfn] != expected) {
      checker.mismatch(pfn, expected, pages[pfn]);
    }
  }

  private void touch(int pfn) {
    queuedCharge += TRANSLATION_NS;
    if (!touched.get(pfn)) {
      touched.set(pfn);
      queuedCharge += FIRST_TOUCH_NS;
    }
    if (++queued == BATCH) {
      send();
    }
  }

  private void send() {
    if (queued == 0) {
      return;
    }
    long charge = queuedCharge;
    queued = 0;
    queuedCharge = 0;
    if (maxDelayMicros == 0) {
      // Answers at once, as an idle machine nearly does.
      synchronized (this) {
        hypervisorNs += charge;
      }
      return;
    }
    synchronized (this) {
      inFlight++;
    }
    long delay = delays.nextLong(maxDelayMicros + 1);
    answers.schedule(() -> {
      synchronized (this) {
        hypervisorNs += charge;
        inFlight--;
        notifyAll();
      }
    }, delay, TimeUnit.MICROSECONDS);
  }

  @Override
  public void readForSwapOut(int[] pfns, long[] expected, int count, long[] values) {
    for (int i = 0; i < count; i++) {
      read(pfns[i], expected[i]);
      values[i] = pages[pfns[i]];
    }
    flush();
  }

  @Override
  public void flush() {
    send();
    synchronized (this) {
      while (inFlight > 0) {
        try {
          wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
      drainedNs = hypervisorNs;
    }
  }

  /** Whether every access made so far has been answered. */
  synchronized boolean drained() {
    return queued == 0 && inFlight == 0;
  }

  @Override
  public void report(GuestStatus status) {
    send();
  }

  @Override
  public synchronized long hypervisorNs() {
    return hypervisorNs;
  }

  @Override
  public long drainedHypervisorNs() {
    return drainedNs;
  }

  @Override
  public void close() {
    answers.shutdownNow();
  }
}
