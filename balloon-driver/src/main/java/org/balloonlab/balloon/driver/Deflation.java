package org.balloonlab.balloon.driver;

import org.balloonlab.balloon.driver.BalloonHost.PageStatus;
import org.balloonlab.balloon.driver.BalloonHost.Session;
import org.balloonlab.balloon.driver.BalloonHost.Target;
import org.balloonlab.balloon.driver.BalloonState.OomRelease;
import org.balloonlab.domain.kernel.BalloonKernel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Giving pages back to the guest, the two ways the driver does it: the round's deflation toward
 * {@code min(target, cap)} (or to nothing, when uninstalled or stopping), and deflate-on-OOM, which the kernel
 * calls on its own thread before it would fail an allocation.
 *
 * <p>Both unlock a batch at the hypervisor first (it must know before the guest may touch the pages) and read
 * the reply the same way, in one method ({@link #unlock}); they differ in what follows. A deflation frees the
 * unlocked pages to the kernel and keeps in the balloon a page the hypervisor will not unlock, which ends the
 * deflation for the round. An OOM release hands every page over whatever the reply said, even when the
 * hypervisor cannot be reached (counted as {@code oomUntold}): a guest that needs memory now matters more, and
 * the hypervisor resets the balloon when the guest touches a page it still thinks is ballooned. The kernel frees
 * those pages itself. An unlock of the round that goes unanswered after {@link PageCalls}' retries leaves its
 * pages in the balloon (pinned, not given back): a later unlock asks again, and a page the hypervisor had already
 * released answers NOT_LOCKED and goes back then. The worker's buffers are allocated once; the OOM path, rare
 * and on another thread, allocates its own.
 */
final class Deflation {
  private static final Logger log = LoggerFactory.getLogger(BalloonDriver.class);

  private final BalloonKernel kernel;
  private final BalloonHost host;
  private final PageCalls calls;
  private final BalloonState state;
  private final DriverCounters counters;
  private final String vmName;

  private final int[] batch;
  private final PageStatus[] statuses;
  private final PfnList kept = new PfnList();

  Deflation(BalloonKernel kernel, BalloonHost host, PageCalls calls, BalloonState state, DriverCounters counters,
            BalloonDriver.Config config) {
    this.kernel = kernel;
    this.host = host;
    this.calls = calls;
    this.state = state;
    this.counters = counters;
    this.vmName = config.vmName();
    this.batch = new int[config.batchPages()];
    this.statuses = new PageStatus[config.batchPages()];
  }

  /**
   * Deflates to {@code min(target, cap)}, or to nothing, in batches. Runs on the worker.
   *
   * @throws BalloonHostException when an unlock fails as a whole (the batch stays in the balloon)
   */
  void deflate(Session s, boolean toEmpty) {
    int limit = s.batchLimit(batch.length);
    boolean freedAny = false;
    try {
      while (true) {
        int n = state.takeForDeflation(batch, limit, toEmpty);
        if (n == 0) {
          return;
        }
        try {
          freedAny |= unlock(s, batch, n, statuses, kept) > 0;
        } catch (BalloonHostException e) {
          state.putBack(batch, n);
          throw e;
        }
        if (!kept.isEmpty()) {
          log.debug("balloon of {}: the hypervisor would not unlock {} pages", vmName, kept.size());
          return;
        }
      }
    } finally {
      if (freedAny) {
        counters.deflations.increment();
      }
    }
  }

  /**
   * The kernel's OOM notifier: takes up to {@code wanted} pages off the balloon, unlocks them at the hypervisor
   * and hands them over in {@code out}. Runs on the kernel's thread.
   *
   * @return how many pages it gave back
   */
  int releaseForOom(int[] out, int wanted) {
    OomRelease release = state.takeForOom(out, wanted);
    int n = release.pages();
    if (n == 0) {
      return 0;
    }
    Session s = release.session();
    int told = 0;
    if (s != null) {
      int[] chunk = new int[Math.min(s.batchLimit(batch.length), n)];
      PageStatus[] st = new PageStatus[chunk.length];
      try {
        while (told < n) {
          int k = Math.min(chunk.length, n - told);
          System.arraycopy(out, told, chunk, 0, k);
          unlock(s, chunk, k, st, null);
          told += k;
        }
      } catch (BalloonHostException e) {
        counters.hostErrors.increment();
        log.warn("balloon of {}: could not tell the hypervisor about {} pages given back on OOM ({})",
            vmName, n - told, e.getMessage());
      }
    }
    counters.oomDeflations.increment();
    counters.oomPages.add(n);
    counters.oomUntold.add(n - told);
    log.debug("balloon of {} gave {} pages back on OOM", vmName, n);
    return n;
  }

  /**
   * Unlocks {@code pfns[0..count)} at the hypervisor and reads the reply. A page it released (OK, or NOT_LOCKED:
   * it did not hold it) or forgot (RESET: the page is the guest's again, as the reset will make every page) goes
   * back to the guest; when {@code keep} is given, it receives any other page, to stay in the balloon, and the
   * pages that go back are freed to the kernel here. Without {@code keep} (deflate-on-OOM) every page goes back
   * and the caller hands them over.
   *
   * @return how many pages went back, moved to the front of {@code pfns}
   * @throws BalloonHostException when the call fails as a whole; nothing was changed
   */
  private int unlock(Session s, int[] pfns, int count, PageStatus[] st, PfnList keep) {
    // The worker's unlocks are retried under a request id (PageCalls); deflate-on-OOM's carry none and are not
    // retried: it hands its pages over anyway, and a repeat of an unlock answers NOT_LOCKED.
    Target t = keep != null ? calls.unlock(s, calls.newId(s), pfns, count, st)
        : host.unlock(s.id(), 0, pfns, count, st);
    int back = 0;
    long unlocked = 0;
    boolean resetSeen = false;
    if (keep != null) {
      keep.clear();
    }
    for (int i = 0; i < count; i++) {
      int pfn = pfns[i];
      PageStatus status = st[i];
      boolean released = status == PageStatus.OK || status == PageStatus.NOT_LOCKED;
      unlocked += released ? 1 : 0;
      resetSeen |= status == PageStatus.RESET;
      if (released || status == PageStatus.RESET || keep == null) {
        pfns[back++] = pfn;
      } else {
        keep.add(pfn);
      }
    }
    if (keep != null && back > 0) {
      kernel.freePages(pfns, back);
    }
    counters.pagesUnlocked.add(unlocked);
    if (keep != null) {
      counters.unlockFailures.add(keep.size());
    }
    state.afterUnlock(keep, resetSeen, t);
    return back;
  }
}
