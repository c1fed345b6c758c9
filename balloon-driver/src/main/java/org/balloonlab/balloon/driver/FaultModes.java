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
 * worker loop, with each mode's effect behind one call. Time comes from the injected clock and chance from the
 * injected random source, so tests (and simulations) do not depend on the wall clock. Owned by the worker
 * thread, except {@link #inflates}.
 */
final class FaultModes {
  private static final Logger log = LoggerFactory.getLogger(BalloonDriver.class);

  private final BalloonHost host;
  private final BalloonState state;
  private final DriverCounters counters;
  private final LongSupplier nanoClock;
  private final DoubleSupplier random;
  private final String vmName;

  private long startNanos;
  private DriverMode bucketMode;
  private double tokens;
  private long tokensAt;
  private long slowWaitNanos;

  FaultModes(BalloonHost host, BalloonState state, DriverCounters counters, LongSupplier nanoClock,
             DoubleSupplier random, String vmName) {
    this.host = host;
    this.state = state;
    this.counters = counters;
    this.nanoClock = nanoClock;
    this.random = random;
    this.vmName = vmName;
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
   * {@code STUCK}: hangs, with a batch allocated and not locked, until the mode changes or the driver stops.
   * Only a doorbell ring makes it speak, one {@code GetTarget}, the only way an operator's new mode can reach
   * it.
   */
  void hang(Session s) {
    state.enterStuck();
    try {
      while (state.awaitRingWhileStuck()) {
        try {
          state.acceptReply(host.getTarget(s.id(), state.size()));
        } catch (BalloonHostException e) {
          counters.hostErrors.increment();
          log.debug("stuck balloon driver of {} could not read its target", vmName, e);
        }
      }
    } finally {
      DriverMode now = state.leaveStuck();
      log.info("balloon driver of {} is no longer stuck (mode {})", vmName, now.kind());
    }
  }
}
