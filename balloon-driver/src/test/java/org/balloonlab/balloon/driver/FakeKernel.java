package org.balloonlab.balloon.driver;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import org.balloonlab.domain.kernel.BalloonKernel;
import org.balloonlab.domain.kernel.MemoryStats;
import org.balloonlab.domain.kernel.OomNotifier;

/**
 * A guest kernel with a free list of N pages. Allocation is last-freed-first, so a page freed too early comes
 * straight back; it respects a per-call limit and can be told to have nothing. It tracks which pages the
 * balloon holds and records a violation when the driver frees one it does not hold.
 */
public final class FakeKernel implements BalloonKernel {
  private final int pages;
  private final int[] freeList;
  private int freeCount;
  private final BitSet pinned;
  private int perCallLimit = Integer.MAX_VALUE;
  private boolean empty;
  private long oomAtAllocation = -1;
  private int oomWanted;
  private long allocateCalls;
  private long freeCalls;
  private final List<String> violations = new ArrayList<>();
  private volatile OomNotifier notifier;
  private volatile Runnable onCall = () -> { };

  public FakeKernel(int pages) {
    this.pages = pages;
    this.freeList = new int[pages];
    this.pinned = new BitSet(pages);
    // Pop order 0, 1, 2, ...
    for (int i = 0; i < pages; i++) {
      freeList[i] = pages - 1 - i;
    }
    freeCount = pages;
  }

  @Override
  public int allocatePages(int[] out, int count) {
    onCall.run();
    boolean oomNow;
    synchronized (this) {
      oomNow = ++allocateCalls == oomAtAllocation;
    }
    if (oomNow) {
      // Reclaim found nothing, so the kernel asks the balloon first, from inside the balloon's own call.
      triggerOom(oomWanted);
    }
    synchronized (this) {
      if (empty) {
        return 0;
      }
      int n = Math.min(Math.min(count, perCallLimit), freeCount);
      for (int i = 0; i < n; i++) {
        int pfn = freeList[--freeCount];
        pinned.set(pfn);
        out[i] = pfn;
      }
      return n;
    }
  }

  @Override
  public void freePages(int[] pfns, int count) {
    onCall.run();
    synchronized (this) {
      freeCalls++;
      for (int i = 0; i < count; i++) {
        giveBack(pfns[i], "freed");
      }
    }
  }

  @Override
  public MemoryStats stats() {
    onCall.run();
    synchronized (this) {
      return new MemoryStats(1, 2, 3, 4, freeCount, pages, freeCount);
    }
  }

  @Override
  public long totalPages() {
    return pages;
  }

  @Override
  public void registerOomNotifier(OomNotifier n) {
    notifier = n;
  }

  /**
   * Plays the kernel about to fail an allocation: asks the driver for pages and puts what it gives on the free
   * list itself.
   *
   * @return the PFNs given back
   */
  public int[] triggerOom(int wanted) {
    int[] out = new int[wanted];
    int n = notifier.releaseForOom(out, wanted);
    synchronized (this) {
      for (int i = 0; i < n; i++) {
        giveBack(out[i], "given back on OOM");
      }
    }
    return Arrays.copyOf(out, n);
  }

  private void giveBack(int pfn, String how) {
    if (pfn < 0 || pfn >= pages || !pinned.get(pfn)) {
      violations.add("page " + pfn + " " + how + " but the balloon did not hold it");
      return;
    }
    pinned.clear(pfn);
    freeList[freeCount++] = pfn;
  }

  public synchronized void setEmpty(boolean empty) {
    this.empty = empty;
  }

  /** Makes the {@code call}-th allocation (counting from 1) run the OOM notifier for {@code wanted} pages first. */
  public synchronized void oomDuringAllocation(long call, int wanted) {
    oomAtAllocation = call;
    oomWanted = wanted;
  }

  public synchronized void setPerCallLimit(int limit) {
    this.perCallLimit = limit;
  }

  public synchronized int pinnedCount() {
    return pinned.cardinality();
  }

  public synchronized boolean isPinned(int pfn) {
    return pinned.get(pfn);
  }

  public synchronized int freeCount() {
    return freeCount;
  }

  public synchronized long allocateCalls() {
    return allocateCalls;
  }

  public synchronized long freeCalls() {
    return freeCalls;
  }

  public synchronized List<String> violations() {
    return List.copyOf(violations);
  }

  public synchronized boolean hasNotifier() {
    return notifier != null;
  }

  /** Runs at the start of every call the driver makes, e.g. to check it does not hold its lock. */
  public void onCall(Runnable hook) {
    this.onCall = hook;
  }
}
