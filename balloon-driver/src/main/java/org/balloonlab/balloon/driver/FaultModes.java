package org.balloonlab.balloon.driver;

import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;
import org.balloonlab.balloon.driver.BalloonHost.Session;
import org.balloonlab.domain.DriverMode;
import org.balloonlab.domain.DriverMode.Kind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the fault-injection modes do to the round: which modes inflate at all, {@code LATE}'s delay after the
 * start, {@code SLOW}'s token bucket and {@code STUCK}'s dice and hang.
 *
 * <p>A real driver has none of this, so it lives apart from the round it bends: the round reads as vmw_balloon's
 * worker loop, with each mode's effect behind one call. Time comes from the injected clock (the guest's simulated
 * time) and chance from the injected random source (seeded from the guest's seed), so tests and labs do not depend
 * on the wall clock. Owned by the thread that runs the rounds, except {@link #inflates}.
 */
final class FaultModes {
  private static final Logger log = LoggerFactory.getLogger(BalloonDriver.class);

  private final BalloonHost host;
  private final BalloonState state;
  private final DriverCounters counters;
  private final LongSupplier nanoClock;
  private final DoubleSupplier random;
  private final String vmName;
  private final boolean blocking;

  private long startNanos;
  private DriverMode bucketMode;
  private double tokens;
  private long tokensAt;
  private long slowWaitNanos;

  /**
   * @param nanoClock the driver's clock: the guest's simulated time, or the wall clock of a harness
   * @param blocking whether a {@code STUCK} hang blocks the calling thread (the threaded worker) or returns at once
   *     and stays hung across calls (a driver the vCPU drives)
   */
  FaultModes(BalloonHost host, BalloonState state, DriverCounters counters, LongSupplier nanoClock,
             DoubleSupplier random, String vmName, boolean blocking) {
    this.host = host;
    this.state = state;
    this.counters = counters;
    this.nanoClock = nanoClock;
    this.random = random;
    this.vmName = vmName;
    this.blocking = blocking;
  }

  /** {@code DISABLED} and {@code UNINSTALLED} never inflate; the others do (at their pace). */
  static boolean inflates(DriverMode m) {
    return m.kind() != Kind.DISABLED && m.kind() != Kind.UNINSTALLED;
  }

  /** Notes when the driver started, which {@code LATE} counts from. */
  void markStart() {
    startNanos = nanoClock.getAsLong();
  }

  /** {@code LATE}: nanoseconds until the driver is available, 0 once it is (or in any other mode). */
  long lateNanosLeft(DriverMode m) {
    if (m.kind() != Kind.LATE) {
      return 0;
    }
    return Math.max(0, TimeUnit.MILLISECONDS.toNanos(m.lateMillis()) - (nanoClock.getAsLong() - startNanos));
  }

  /**
   * How many of {@code want} pages the next batch may hold. In {@code SLOW}, a token bucket of
   * {@code pagesPerSecond} (at most one second of credit) allows all of them, capped at one second's worth, or
   * nothing: it waits for a whole batch rather than lock a trickle of tiny ones, and {@link #slowWaitNanos()}
   * then says when it will allow one. Other modes take all.
   */
  int allowance(DriverMode m, int want) {
    if (m.kind() != Kind.SLOW) {
      bucketMode = null;
      return want;
    }
    long now = nanoClock.getAsLong();
    double rate = Math.max(1, m.pagesPerSecond());
    if (!m.equals(bucketMode)) {
      bucketMode = m;
      tokens = 0;
      tokensAt = now;
    }
    tokens = Math.min(rate, tokens + Math.max(0, now - tokensAt) * rate / 1e9);
    tokensAt = now;
    int need = (int) Math.min(want, Math.floor(rate));
    if (tokens >= need) {
      return need;
    }
    slowWaitNanos = (long) Math.ceil((need - tokens) / rate * 1e9);
    return 0;
  }

  /** After {@link #allowance} allowed nothing: nanoseconds until it will allow a whole batch. */
  long slowWaitNanos() {
    return slowWaitNanos;
  }

  /** Spends the bucket's tokens on the pages a {@code SLOW} batch got from the kernel. */
  void spend(DriverMode m, int pages) {
    if (m.kind() == Kind.SLOW) {
      tokens -= pages;
    }
  }

  /** {@code STUCK}: whether the batch in hand is the one it hangs at ({@code stuckProbability} per batch). */
  boolean hangsNow(DriverMode m) {
    if (m.kind() != Kind.STUCK) {
      return false;
    }
    double p = m.stuckProbability();
    return p >= 1 || (p > 0 && random.getAsDouble() < p);
  }

  /**
   * {@code STUCK}: hangs, with a batch allocated and not locked, until the mode changes or the driver stops. Only a
   * doorbell ring makes it speak, one {@code GetTarget}, the only way an operator's new mode can reach it. The
   * threaded worker blocks here until the hang is over; a driven driver returns at once, hung, and
   * {@link #stillHung()} carries the hang on from call to call.
   *
   * @return true when the hang is over, false when the driver returned hung
   */
  boolean hang(Session s) {
    state.enterStuck();
    if (!blocking) {
      return false;
    }
    try {
      while (state.awaitRingWhileStuck()) {
        readTargetWhileStuck(s);
      }
    } finally {
      leaveHang();
    }
    return true;
  }

  /**
   * A driven driver, hung: reads its target if the doorbell rang, and answers whether the hang goes on. Once it is
   * over, the caller resumes the inflation with the batch in hand.
   */
  boolean stillHung() {
    if (state.takeRingWhileStuck() && state.session() != null) {
      readTargetWhileStuck(state.session());
    }
    if (state.stuckHolds()) {
      return true;
    }
    leaveHang();
    return false;
  }

  /** Ends a hang. */
  void leaveHang() {
    DriverMode now = state.leaveStuck();
    log.info("balloon driver of {} is no longer stuck (mode {})", vmName, now);
  }

  private void readTargetWhileStuck(Session s) {
    try {
      state.acceptReply(host.getTarget(s.id(), state.size()));
    } catch (BalloonHostException e) {
      counters.hostErrors.increment();
      log.debug("stuck balloon driver of {} could not read its target", vmName, e);
    }
  }
}
