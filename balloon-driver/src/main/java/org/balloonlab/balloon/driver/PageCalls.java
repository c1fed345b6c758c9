package org.balloonlab.balloon.driver;

import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.balloonlab.balloon.driver.BalloonHost.PageStatus;
import org.balloonlab.balloon.driver.BalloonHost.Session;
import org.balloonlab.balloon.driver.BalloonHost.Target;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's Locks and Unlocks, made safe to retry. Each call carries a request id, 1, 2, 3, ... within a
 * session ({@code balloon.proto}, {@code BalloonPagesRequest.request_id}); the hypervisor remembers the last one it
 * applied and answers a repeat of it with the answer it gave, changing nothing. So when a call fails with
 * {@link BalloonHostException.Kind#UNAVAILABLE} (a deadline passed, the connection broke: the call may or may not
 * have been applied) the same request, same id and same pages, is sent again, up to {@value #RETRIES} times with
 * a doubling pause, and lands once whatever became of the first. Other failures (a stale session, a refused
 * credential, a malformed request) say the call was not applied and are not retried.
 *
 * <p>If the answer still does not come, the caller must treat the pages as of unknown fate: {@link Inflation}
 * keeps them pinned (neither in the balloon nor given back to the guest) and sends the same request again before
 * anything else in a later round, so the hypervisor says what it holds before a page goes back to the guest;
 * {@link Deflation} leaves them in the balloon and unlocks them again later (a page the hypervisor no longer holds
 * answers NOT_LOCKED).
 *
 * <p>The host decides how long a pause lasts ({@link BalloonHost#awaitRetry}): the gRPC host waits wall time, for
 * the network, not for the model; a host in the same process does not wait. A driven driver pauses on
 * the vCPU thread, where simulated time stands still meanwhile, and the hypervisor answers a retry without a turn
 * of its own on the lab clock, so the lab's order and its simulated results are the same as without the lost
 * answer. Owned by the thread that runs the rounds; deflate-on-OOM does not use it (its unlocks carry no id: a
 * repeat of one answers NOT_LOCKED, which is harmless, and it hands its pages over anyway).
 */
final class PageCalls {
  private static final Logger log = LoggerFactory.getLogger(BalloonDriver.class);
  /** Retries of one call after its first attempt. */
  static final int RETRIES = 3;
  /** The pause before the first retry; it doubles for each next one. */
  static final long FIRST_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  private final BalloonHost host;
  private final DriverCounters counters;
  private final String vmName;
  private LongConsumer pause;
  private long idSession;
  private long lastId;

  PageCalls(BalloonHost host, DriverCounters counters, String vmName) {
    this.host = host;
    this.counters = counters;
    this.vmName = vmName;
    this.pause = host::awaitRetry;
  }

  /** For tests: how the pauses between retries wait, in nanoseconds. */
  void pauseWith(LongConsumer pause) {
    this.pause = pause;
  }

  /** A fresh request id for a call in session {@code s}: ids count from 1 in each session. */
  long newId(Session s) {
    if (s.id() != idSession) {
      idSession = s.id();
      lastId = 0;
    }
    return ++lastId;
  }

  /** Locks under {@code id}, retrying as the class says. @throws BalloonHostException after the last attempt */
  Target lock(Session s, long id, int[] pfns, int count, PageStatus[] statuses) {
    return call(s, id, true, pfns, count, statuses);
  }

  /** Unlocks under {@code id}, retrying as the class says. @throws BalloonHostException after the last attempt */
  Target unlock(Session s, long id, int[] pfns, int count, PageStatus[] statuses) {
    return call(s, id, false, pfns, count, statuses);
  }

  private Target call(Session s, long id, boolean lock, int[] pfns, int count, PageStatus[] statuses) {
    long pauseNanos = FIRST_PAUSE_NANOS;
    BalloonHostException unanswered = null;
    for (int attempt = 0; ; attempt++) {
      try {
        Target t = lock ? host.lock(s.id(), id, pfns, count, statuses)
            : host.unlock(s.id(), id, pfns, count, statuses);
        if (attempt > 0) {
          log.debug("balloon driver of {}: {} request {} answered after {} retries", vmName, what(lock), id,
              attempt);
        }
        return t;
      } catch (BalloonHostException e) {
        if (unanswered != null && e.kind() != BalloonHostException.Kind.UNAVAILABLE) {
          // A retry refused (the session went stale with the connection, say) says nothing of the first
          // attempt, which may have been applied: the outcome stays unknown.
          throw new BalloonHostException(BalloonHostException.Kind.UNAVAILABLE, "no answer to " + what(lock)
              + " request " + id + " (" + unanswered.getMessage() + "), then " + e.getMessage(), e);
        }
        if (e.kind() != BalloonHostException.Kind.UNAVAILABLE || attempt == RETRIES) {
          throw e;
        }
        unanswered = e;
        counters.retries.increment();
        if (attempt == 0) {
          // The one line a user sees about it: the answer was lost, and the retry is safe.
          log.warn("balloon driver of {}: no answer to {} request {} of {} pages ({}); retrying the same request, "
              + "which the hypervisor applies at most once", vmName, what(lock), id, count, e.getMessage());
        }
        pause.accept(pauseNanos);
        pauseNanos *= 2;
      }
    }
  }

  private static String what(boolean lock) {
    return lock ? "lock" : "unlock";
  }

}
