package org.balloonlab.balloon.driver;

import java.util.Arrays;
import org.balloonlab.balloon.driver.BalloonHost.PageStatus;
import org.balloonlab.balloon.driver.BalloonHost.Session;
import org.balloonlab.balloon.driver.BalloonHost.Target;
import org.balloonlab.balloon.driver.BalloonState.InflationBatch;
import org.balloonlab.domain.kernel.BalloonKernel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The round's inflation: allocate a batch from the kernel without retrying, lock it at the hypervisor, keep the
 * pages it accepted, until the balloon reaches {@code min(target, cap)} or something ends the inflation.
 *
 * <p>It is the longest step of the round and the only one with outcomes of its own, so it has a class: a refused
 * page is held on a refused list until the inflation ends (so the kernel, which hands the last freed page out
 * first, cannot give it straight back); a page the hypervisor rejects otherwise (invalid, already locked,
 * duplicate, reset) goes back to the kernel at once; after {@code maxRefusals} pages not taken, refused or
 * rejected, it backs off until the next round (rejections count too, or a kernel that hands the same page back
 * would keep the round spinning). When the kernel has nothing to give, it counts an allocation failure and
 * waits for the next round rather than push the guest harder. {@link FaultModes} paces ({@code SLOW}) or hangs
 * ({@code STUCK}) it; a batch allocated when it hangs is held until the hang is over, then locked as far as the
 * balloon still wants it.
 *
 * <p>A lock whose answer does not come even after {@link PageCalls}' retries leaves its pages of <em>unknown</em>
 * fate: the hypervisor may hold them or not. They are neither added to the balloon nor given back to the guest
 * (whose next touch of a page the hypervisor took would reset the whole balloon); they stay pinned in the batch
 * buffer, and the next inflation (or stop, or uninstall) first sends the same request again: in the same session
 * the hypervisor answers it with what it answered the first time; in a new session (the old one went stale) it is
 * sent as a new request, where ALREADY_LOCKED means the hypervisor holds the page. Only then do the pages join
 * the balloon or go back. Owned by the thread that runs the rounds; its buffers are allocated once and reused.
 */
final class Inflation {
  private static final Logger log = LoggerFactory.getLogger(BalloonDriver.class);

  private final BalloonKernel kernel;
  private final PageCalls calls;
  private final BalloonState state;
  private final DriverCounters counters;
  private final FaultModes modes;
  private final int maxRefusals;
  private final String vmName;

  private final int[] batch;
  private final int[] rejected;
  private final PageStatus[] statuses;
  private final PfnList refused = new PfnList();
  /** Pages of {@link #batch} allocated before a {@code STUCK} hang and not yet locked; 0 without a hang. */
  private int held;
  /** Pages of {@link #batch} whose lock went unanswered (see the class comment); 0 when none. */
  private int unknown;
  /** The unanswered lock's request id and session. */
  private long unknownId;
  private long unknownSession;

  Inflation(BalloonKernel kernel, PageCalls calls, BalloonState state, DriverCounters counters, FaultModes modes,
            BalloonDriver.Config config) {
    this.kernel = kernel;
    this.calls = calls;
    this.state = state;
    this.counters = counters;
    this.modes = modes;
    this.maxRefusals = config.maxRefusals();
    this.vmName = config.vmName();
    this.batch = new int[config.batchPages()];
    this.rejected = new int[config.batchPages()];
    this.statuses = new PageStatus[config.batchPages()];
  }

  /**
   * Inflates toward {@code min(target, cap)} in batches while the mode allows. A batch held over a hang goes
   * first: what the balloon still wants of it is locked, the rest freed.
   *
   * @return nanoseconds until {@code SLOW}'s bucket allows the next batch, {@link Long#MAX_VALUE} when the
   *     inflation did not stop for it (or stopped hung, in a driven driver: see {@link FaultModes#hang})
   * @throws BalloonHostException when a lock fails as a whole (the batch went back to the kernel)
   */
  long inflate(Session s) {
    int limit = s.batchLimit(batch.length);
    long oomReleasesAtStart = counters.oomDeflations.sum();
    int notTaken = 0;
    boolean lockedAny = false;
    try {
      resolveUnknown(s);
      while (true) {
        int got;
        if (held > 0) {
          got = trimAfterHang();
          if (got == 0) {
            return Long.MAX_VALUE;
          }
        } else {
          InflationBatch next = state.nextInflationBatch(limit, oomReleasesAtStart);
          if (next == null) {
            return Long.MAX_VALUE;
          }
          int want = modes.allowance(next.mode(), next.pages());
          if (want == 0) {
            return modes.slowWaitNanos();
          }
          got = Math.min(kernel.allocatePages(batch, want), want);
          if (got <= 0) {
            counters.allocationFailures.increment();
            return Long.MAX_VALUE;
          }
          modes.spend(next.mode(), got);
          if (modes.hangsNow(next.mode())) {
            held = got;
            if (!modes.hang(s)) {
              return Long.MAX_VALUE;
            }
            continue;
          }
        }
        int locked = lockBatch(s, got);
        lockedAny |= locked > 0;
        notTaken += got - locked;
        if (notTaken >= maxRefusals) {
          counters.refusalBackoffs.increment();
          log.debug("balloon of {}: {} pages refused, backing off", vmName, notTaken);
          return Long.MAX_VALUE;
        }
      }
    } finally {
      if (!refused.isEmpty()) {
        kernel.freePages(refused.array(), refused.size());
        refused.clear();
      }
      if (lockedAny) {
        counters.inflations.increment();
      }
    }
  }

  /**
   * Locks {@code batch[0..count)} at the hypervisor: the pages it accepted join the balloon, refused ones wait
   * on the refused list, rejected ones go back to the kernel.
   *
   * @return how many it locked
   */
  private int lockBatch(Session s, int count) {
    return lockBatch(s, calls.newId(s), count, false);
  }

  /** Whether pages wait for the hypervisor to say whether it holds them. */
  boolean hasUnknown() {
    return unknown > 0;
  }

  /**
   * Sends the unanswered lock again, so the hypervisor says what it holds of its pages, and takes them into the
   * balloon or gives them back accordingly. Nothing to do when no lock went unanswered.
   *
   * @throws BalloonHostException when it is still unanswered (the pages stay pinned) or refused
   */
  void resolveUnknown(Session s) {
    if (unknown == 0) {
      return;
    }
    int n = unknown;
    boolean sameSession = s.id() == unknownSession;
    unknown = 0;
    counters.unknownPages.set(0);
    log.info("balloon of {}: asking the hypervisor again about {} pages whose lock went unanswered", vmName, n);
    try {
      lockBatch(s, sameSession ? unknownId : calls.newId(s), n, !sameSession);
    } finally {
      if (!refused.isEmpty()) {
        kernel.freePages(refused.array(), refused.size());
        refused.clear();
      }
    }
  }

  /**
   * Locks {@code batch[0..count)} under request {@code id}.
   *
   * @param alreadyLockedIsHeld a lock sent again in a new session: ALREADY_LOCKED means the hypervisor holds it
   */
  private int lockBatch(Session s, long id, int count, boolean alreadyLockedIsHeld) {
    Target t;
    try {
      t = calls.lock(s, id, batch, count, statuses);
    } catch (BalloonHostException e) {
      if (e.kind() == BalloonHostException.Kind.UNAVAILABLE) {
        // Maybe applied, maybe not: pinned until the hypervisor says (class comment).
        unknown = count;
        unknownId = id;
        unknownSession = s.id();
        counters.unknownOutcomes.increment();
        counters.unknownPages.set(count);
        log.warn("balloon of {}: lock request {} of {} pages still unanswered; the pages stay pinned until the "
            + "hypervisor says whether it holds them", vmName, id, count);
      } else {
        // Refused as a whole: not applied, so the pages are the guest's.
        kernel.freePages(batch, count);
      }
      throw e;
    }
    int ok = 0;
    int rejectedCount = 0;
    int refusedNow = 0;
    boolean resetSeen = false;
    for (int i = 0; i < count; i++) {
      int pfn = batch[i];
      PageStatus status = statuses[i];
      if (status == PageStatus.OK || alreadyLockedIsHeld && status == PageStatus.ALREADY_LOCKED) {
        batch[ok++] = pfn;
      } else if (status == PageStatus.REFUSED) {
        refused.add(pfn);
        refusedNow++;
      } else {
        rejected[rejectedCount++] = pfn;
        resetSeen |= status == PageStatus.RESET;
      }
    }
    counters.pagesLocked.add(ok);
    counters.pagesRefused.add(refusedNow);
    counters.pagesRejected.add(rejectedCount);
    state.addLocked(batch, ok, resetSeen, t);
    if (rejectedCount > 0) {
      kernel.freePages(rejected, rejectedCount);
    }
    return ok;
  }

  /** After a hang, keeps only what the balloon still wants of the batch held and frees the rest. */
  private int trimAfterHang() {
    int got = held;
    held = 0;
    int keep = (int) Math.min(got, state.stillWanted());
    if (keep < got) {
      int[] surplus = Arrays.copyOfRange(batch, keep, got);
      kernel.freePages(surplus, surplus.length);
    }
    return keep;
  }

  /** The driver stops while hung: the batch held goes back to the kernel. */
  void releaseHeld() {
    if (held > 0) {
      int[] pages = Arrays.copyOf(batch, held);
      held = 0;
      kernel.freePages(pages, pages.length);
    }
  }
}
