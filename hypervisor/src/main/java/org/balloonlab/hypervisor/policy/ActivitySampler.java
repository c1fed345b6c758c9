package org.balloonlab.hypervisor.policy;

import java.util.SplittableRandom;
import java.util.function.IntPredicate;

/**
 * Estimates the fraction of a VM's memory in active use by statistical sampling, as ESX does: at the start of
 * each period, {@code n} of the VM's backed pages are picked at random and marked; a marked page touched during
 * the period counts as active and is unmarked. At the period's end {@code touched / n} is one sample of the
 * active fraction {@code f}. Periods run on the VM's simulated clock, so a busy VM is sampled at the rate its own
 * time passes, not the host's.
 *
 * <p>Samples feed two exponentially weighted moving averages, a fast one that follows a VM that turns active
 * within a period or two, and a slow one that forgets activity only over many periods. A third estimate, as ESX
 * keeps, is the fast average updated with the current, still incomplete period's samples as if the period ended
 * now ({@code fast + fastGain * (touchedSoFar / n - fast)}): touches only accumulate within a period, so it
 * rises as soon as a VM that was idle starts touching its pages, a period sooner than the fast average, and it
 * never exceeds what the fast average will be when the period ends. The estimate is the largest of the three, so a VM is believed
 * idle only after it has stayed idle for a while, and believed active at once. The first sample seeds both
 * averages; until then the estimate is 1 (a new VM is not taxed).
 *
 * <p>Only the workload's accesses count: the data path does not call {@link #touch} for the guest kernel's own
 * reads (its swap-out reads and its shutdown audit), which would make an idle VM look active.
 *
 * <p>Cost: the marks are one bit per PFN (a {@code long[]} bitmap), and the data path pays one bit test per
 * access ({@link #touch}).
 */
public final class ActivitySampler {
  private final long[] marked;
  private final int[] sample;
  private final int pages;
  private final long periodNs;
  private final double fastGain;
  private final double slowGain;
  private int sampled;
  private int touched;
  private long periodStartNs = -1;
  private long periods;
  private double fast = 1;
  private double slow = 1;

  /**
   * @param pages the VM's PFNs
   * @param samplePages pages marked per period (n)
   * @param periodNs simulated length of a period
   * @param fastGain weight of a new sample in the fast average, 0..1
   * @param slowGain weight of a new sample in the slow average, 0..fastGain
   */
  public ActivitySampler(int pages, int samplePages, long periodNs, double fastGain, double slowGain) {
    if (samplePages <= 0 || periodNs <= 0) {
      throw new IllegalArgumentException("sampling needs a positive page count and period");
    }
    this.pages = pages;
    this.marked = new long[(pages + 63) >>> 6];
    this.sample = new int[Math.min(samplePages, pages)];
    this.periodNs = periodNs;
    this.fastGain = fastGain;
    this.slowGain = slowGain;
  }

  /** The data path's check: counts a touch of a marked page and unmarks it. */
  public void touch(int pfn) {
    int word = pfn >>> 6;
    long bit = 1L << pfn;
    long w = marked[word];
    if ((w & bit) != 0) {
      marked[word] = w & ~bit;
      touched++;
    }
  }

  /**
   * Moves the sampler to the VM's simulated time {@code nowNs}: closes the period if it has run its length and
   * starts the next one with a fresh sample of backed pages.
   *
   * @param backed which PFNs hold a machine frame (only those are sampled)
   */
  public void advance(long nowNs, IntPredicate backed, SplittableRandom random) {
    if (periodStartNs >= 0 && nowNs - periodStartNs < periodNs) {
      return;
    }
    if (periodStartNs >= 0 && sampled > 0) {
      double f = (double) touched / sampled;
      if (periods == 0) {
        fast = f;
        slow = f;
      } else {
        fast += fastGain * (f - fast);
        slow += slowGain * (f - slow);
      }
      periods++;
    }
    for (int i = 0; i < sampled; i++) {
      marked[sample[i] >>> 6] &= ~(1L << sample[i]);
    }
    sampled = 0;
    touched = 0;
    for (int k = 0; k < sample.length; k++) {
      for (int tries = 0; tries < 16; tries++) {
        int pfn = random.nextInt(pages);
        if (backed.test(pfn) && (marked[pfn >>> 6] & (1L << pfn)) == 0) {
          marked[pfn >>> 6] |= 1L << pfn;
          sample[sampled++] = pfn;
          break;
        }
      }
    }
    periodStartNs = nowNs;
  }

  /**
   * The estimated active fraction: the largest of the slow average, the fast average and the current-period
   * estimate ({@link #current()}), 1 before the first sample.
   */
  public double activeFraction() {
    return Math.max(Math.max(fast, slow), current());
  }

  /**
   * The third estimate: the fast average updated with the touches of the period under way as if it ended now;
   * the fast average itself while no sample is under way or before the first sample.
   */
  public double current() {
    if (periods == 0 || sampled == 0) {
      return fast;
    }
    return fast + fastGain * ((double) touched / sampled - fast);
  }

  public double fast() {
    return fast;
  }

  public double slow() {
    return slow;
  }

  /** Periods closed with a sample so far. */
  public long periods() {
    return periods;
  }
}
