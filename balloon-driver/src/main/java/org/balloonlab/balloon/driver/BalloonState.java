package org.balloonlab.balloon.driver;

import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.balloonlab.balloon.driver.BalloonHost.Session;
import org.balloonlab.balloon.driver.BalloonHost.Target;
import org.balloonlab.domain.DriverMode;
import org.balloonlab.domain.DriverMode.Kind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver's shared state and the lock that guards it: the balloon's pages, the session, the target and cap,
 * the mode, and the flags by which the worker, the kernel's OOM path, the doorbell and the driver's callers tell
 * one another what happened.
 *
 * <p>Four threads meet here in the threaded mode (a driver the vCPU drives has no worker thread nor doorbell
 * stream, but its callers may still differ), so the lock lives in one class: every method is {@code synchronized},
 * one atomic step on this object's monitor, and the worker waits on the same monitor. No method calls the kernel
 * or the hypervisor: the kernel may run calls on the guest's CPU and call back into the OOM path, and the doorbell
 * rings on a transport thread, so a call out under the lock could deadlock. The round ({@link BalloonDriver},
 * {@link Inflation}, {@link Deflation}, {@link FaultModes}) calls out between steps. Counters are not guarded
 * here ({@link DriverCounters}); a step that changes the state counts first.
 */
final class BalloonState {
  private static final Logger log = LoggerFactory.getLogger(BalloonDriver.class);

  /**
   * The next batch of an inflation.
   *
   * @param mode the mode in force when the batch was decided
   * @param pages how many pages to allocate and lock
   */
  record InflationBatch(DriverMode mode, int pages) {}

  /**
   * Pages taken off the balloon for deflate-on-OOM.
   *
   * @param session the session to unlock them in, {@code null} without one
   * @param pages how many were taken
   */
  record OomRelease(Session session, int pages) {}

  private final DriverCounters counters;
  private final String vmName;

  private final PfnList balloon = new PfnList(1024);
  private boolean started;
  private Thread worker;
  private Session session;
  private DriverMode mode;
  private DriverMode lastRequestedMode;
  private long target;
  private long cap;
  private boolean resetPending;
  private boolean wakeRequested;
  private boolean rung;
  private boolean stopping;
  private boolean deflateOnStop;
  private boolean stuck;

  BalloonState(DriverMode initialMode, DriverCounters counters, String vmName) {
    this.mode = Objects.requireNonNull(initialMode, "initialMode");
    this.counters = counters;
    this.vmName = vmName;
  }

  // ------------------------------------------------------------------------------------------ lifecycle

  /**
   * Marks the driver started, with {@code t} as its worker ({@code null} when the guest's vCPU drives it).
   *
   * @throws IllegalStateException if the driver was started or stopped before
   */
  synchronized void claimStart(Thread t) {
    if (started || stopping) {
      throw new IllegalStateException("the balloon driver of " + vmName + " was already started");
    }
    started = true;
    worker = t;
  }

  synchronized boolean isStarted() {
    return started;
  }

  /**
   * Tells the worker to stop and wakes it; the first call decides whether it deflates first.
   *
   * @return the worker to wait for, {@code null} if the driver never started
   */
  synchronized Thread requestStop(boolean deflate) {
    if (!stopping) {
      stopping = true;
      deflateOnStop = deflate;
    }
    wakeRequested = true;
    notifyAll();
    return worker;
  }

  /** Counts a new round and returns the mode it runs in, or {@code null} when the driver is stopping. */
  synchronized DriverMode beginRound() {
    if (stopping) {
      return null;
    }
    counters.rounds.increment();
    return mode;
  }

  /**
   * The threaded worker: waits up to {@code nanos} for the doorbell, a mode change, a requested round or a stop.
   * The wait paces a worker that serves a hypervisor running free, where nothing is reproducible; it reads no
   * clock (a spurious wake-up only runs a round early, which polls the target once more). On the lab clock the
   * vCPU drives the driver on simulated time instead.
   */
  synchronized void awaitNextRound(long nanos) {
    try {
      if (!stopping && !wakeRequested && nanos > 0) {
        TimeUnit.NANOSECONDS.timedWait(this, nanos);
      }
      wakeRequested = false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopping = true;
    }
  }

  /** Makes the worker start its next round at once. */
  synchronized void requestRound() {
    wakeRequested = true;
  }

  /** Driven mode: whether a round was asked for (a ring, a mode change, a reset), and forgets the request. */
  synchronized boolean takeRoundRequest() {
    boolean requested = wakeRequested;
    wakeRequested = false;
    return requested;
  }

  /** The doorbell: the target or the requested mode changed. Runs on a transport thread. */
  synchronized void ring() {
    counters.doorbellRings.increment();
    rung = true;
    wakeRequested = true;
    notifyAll();
  }

  /** A local mode switch; the worker acts on it in its next round (or stops hanging). */
  synchronized void setMode(DriverMode request) {
    if (!request.equals(mode)) {
      switchMode(request, "locally");
    }
  }

  synchronized boolean isStopping() {
    return stopping;
  }

  synchronized boolean deflateOnStop() {
    return deflateOnStop;
  }

  synchronized boolean isResetPending() {
    return resetPending;
  }

  /** Pages in the balloon now. */
  synchronized long size() {
    return balloon.size();
  }

  /** For tests: whether the calling thread holds the lock (no call may go out while it does). */
  boolean holdsLock() {
    return Thread.holdsLock(this);
  }

  synchronized DriverStats snapshot() {
    Session s = session;
    DriverCounters c = counters;
    return new DriverStats(mode, s != null, s == null ? 0 : s.id(), target, balloon.size(), cap, stuck,
        c.rounds.sum(), c.sessionsStarted.sum(), c.inflations.sum(), c.deflations.sum(), c.pagesLocked.sum(),
        c.pagesUnlocked.sum(), c.pagesRefused.sum(), c.refusalBackoffs.sum(), c.pagesRejected.sum(),
        c.unlockFailures.sum(), c.resets.sum(), c.resetPages.sum(), c.allocationFailures.sum(),
        c.oomDeflations.sum(), c.oomPages.sum(), c.oomUntold.sum(), c.hostErrors.sum(), c.doorbellRings.sum(),
        c.statsReports.sum(), c.modeSwitches.sum(), c.stuckEpisodes.sum(), c.retries.sum(),
        c.unknownOutcomes.sum(), c.unknownPages.get());
  }

  // ------------------------------------------------------------------------------------- session, reset

  /** The open session, {@code null} without one. */
  synchronized Session session() {
    return session;
  }

  /**
   * Adopts a new session and what its Start reply carried.
   *
   * @return whether pages the balloon still holds must go back to the kernel: the reply said RESET
   */
  synchronized boolean openSession(Session s) {
    Target t = s.target() != null ? s.target() : new Target(0, false, null);
    counters.sessionsStarted.increment();
    session = s;
    // A new session is already the "start over" a reset asks for; only pages still held must go.
    absorb(new Target(t.targetPages(), false, t.requestedMode()));
    return t.reset() && !balloon.isEmpty();
  }

  synchronized void closeSession() {
    session = null;
  }

  /** Empties the balloon for a reset and counts it; the caller hands the pages back to the kernel. */
  synchronized int[] takeAllForReset() {
    int[] pages = balloon.toArray();
    counters.resets.increment();
    counters.resetPages.add(pages.length);
    balloon.clear();
    resetPending = false;
    return pages;
  }

  // ----------------------------------------------------------------------------------------------- target

  /**
   * Before {@code GetTarget}: that call reads whatever a ring so far announced (the session's first ring
   * included), so those rings need no round of their own; a ring from now on still wakes the next one.
   *
   * @return the balloon's size, to report
   */
  synchronized long beforeGetTarget() {
    rung = false;
    wakeRequested = false;
    return balloon.size();
  }

  /**
   * Takes in {@code GetTarget}'s reply and the cap of this round.
   *
   * @return false when the round must start over at once: the reply brought a reset, or a mode other than the
   *     round's, which decides what this round should have done
   */
  synchronized boolean acceptTarget(Target t, long capPages, DriverMode roundMode) {
    cap = capPages;
    absorb(t);
    if (resetPending || !mode.equals(roundMode)) {
      wakeRequested = true;
      return false;
    }
    return true;
  }

  /** Takes in what a reply carries: the target, a reset, the operator's requested mode. */
  synchronized void acceptReply(Target t) {
    absorb(t);
  }

  // -------------------------------------------------------------------------------------------- inflation

  /**
   * The next batch of an inflation toward {@code min(target, cap)}.
   *
   * @param oomReleasesAtStart {@link DriverCounters#oomDeflations} when the inflation began
   * @return {@code null} when the inflation ends: the driver stops, a reset is pending, the mode does not
   *     inflate, the goal is reached, or a deflate-on-OOM happened meanwhile (taking the pages straight back
   *     would only push the guest toward the same wall; the next round may inflate again)
   */
  synchronized InflationBatch nextInflationBatch(int limit, long oomReleasesAtStart) {
    long need = goal() - balloon.size();
    if (stopping || resetPending || !FaultModes.inflates(mode) || need <= 0
        || counters.oomDeflations.sum() != oomReleasesAtStart) {
      return null;
    }
    return new InflationBatch(mode, (int) Math.min(need, limit));
  }

  /** After a hang: how many pages of a batch in hand the balloon still wants, 0 when the inflation ends. */
  synchronized long stillWanted() {
    boolean go = !stopping && !resetPending && FaultModes.inflates(mode);
    return go ? Math.max(0, goal() - balloon.size()) : 0;
  }

  /** Adds the pages the hypervisor locked and takes in its reply; {@code resetSeen}: a page said RESET. */
  synchronized void addLocked(int[] pfns, int count, boolean resetSeen, Target t) {
    balloon.addAll(pfns, count);
    resetPending |= resetSeen;
    absorb(t);
  }

  /** STUCK: marks the worker hung in the middle of an inflation. */
  synchronized void enterStuck() {
    counters.stuckEpisodes.increment();
    stuck = true;
    log.info("balloon driver of {} is stuck in the middle of an inflation", vmName);
  }

  /**
   * STUCK: waits until the mode leaves STUCK, the driver stops or the doorbell rings.
   *
   * @return true when the doorbell rang (the ring is taken; the caller reads its target and waits again), false
   *     when the hang is over
   */
  synchronized boolean awaitRingWhileStuck() {
    while (stuckHolds()) {
      if (takeRingWhileStuck()) {
        return true;
      }
      try {
        wait();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stopping = true;
      }
    }
    return false;
  }

  /** STUCK: whether the hang goes on (the mode is still STUCK and the driver is not stopping). */
  synchronized boolean stuckHolds() {
    return !stopping && mode.kind() == Kind.STUCK;
  }

  /** STUCK: takes a doorbell ring that came while hung; true if there was one. */
  synchronized boolean takeRingWhileStuck() {
    if (!rung) {
      return false;
    }
    rung = false;
    return true;
  }

  synchronized boolean isStuck() {
    return stuck;
  }

  /** Ends a hang; returns the mode in force. */
  synchronized DriverMode leaveStuck() {
    stuck = false;
    return mode;
  }

  // -------------------------------------------------------------------------------------------- deflation

  /**
   * Takes up to {@code limit} pages off the end of the balloon to deflate toward {@code min(target, cap)}, or
   * toward nothing.
   *
   * @return how many were moved into {@code out}, 0 when deflation ends (at its goal, stopping without
   *     deflating, or a reset pending)
   */
  synchronized int takeForDeflation(int[] out, int limit, boolean toEmpty) {
    if ((stopping && !deflateOnStop) || resetPending) {
      return 0;
    }
    long excess = balloon.size() - (toEmpty ? 0 : goal());
    return excess <= 0 ? 0 : balloon.removeLast(out, (int) Math.min(excess, limit));
  }

  /** Takes pages back into the balloon: a deflation batch whose unlock failed as a whole. */
  synchronized void putBack(int[] pfns, int count) {
    balloon.addAll(pfns, count);
  }

  /**
   * After an unlock: keeps in the balloon the pages the hypervisor would not unlock and takes in its reply.
   *
   * @param kept the pages to keep, {@code null} for none
   * @param resetSeen whether a page said RESET
   */
  synchronized void afterUnlock(PfnList kept, boolean resetSeen, Target t) {
    if (kept != null) {
      balloon.addAll(kept.array(), kept.size());
    }
    resetPending |= resetSeen;
    absorb(t);
  }

  /** Deflate-on-OOM: takes up to {@code wanted} pages off the balloon, into {@code out}. */
  synchronized OomRelease takeForOom(int[] out, int wanted) {
    return new OomRelease(session, balloon.removeLast(out, Math.max(0, Math.min(wanted, out.length))));
  }

  // ---------------------------------------------------------------------------------------------- helpers

  /** Called with the lock held. */
  private void absorb(Target t) {
    if (t == null) {
      return;
    }
    target = Math.max(0, t.targetPages());
    if (t.reset()) {
      resetPending = true;
    }
    DriverMode requested = t.requestedMode();
    if (!Objects.equals(requested, lastRequestedMode)) {
      // Adopt the operator's request when it changes, not on every reply that repeats it.
      lastRequestedMode = requested;
      if (requested != null && !requested.equals(mode)) {
        switchMode(requested, "by the hypervisor");
      }
    }
  }

  /** Called with the lock held. */
  private void switchMode(DriverMode request, String how) {
    log.info("balloon driver of {} switched {} from {} to {}", vmName, how, mode, request);
    counters.modeSwitches.increment();
    mode = request;
    wakeRequested = true;
    notifyAll();
  }

  /** The balloon's goal now. Called with the lock held. */
  private long goal() {
    return Math.max(0, Math.min(target, cap));
  }
}
