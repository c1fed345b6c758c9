package org.balloonlab.lab;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.balloonlab.proto.LabClockState;

/**
 * Lab time on a hypervisor that runs free ({@code lab-clock: free}, or one without a lab clock): the wall time
 * since the guests were up. Nothing the launcher does lands at a definite simulated instant, so nothing the run
 * reports is reproducible; it exists to compare with a lockstep run.
 */
final class WallPacing implements RunClock {
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final Launcher launcher;
  private final long startNanos = System.nanoTime();

  WallPacing(Launcher launcher) {
    this.launcher = launcher;
  }

  @Override
  public long runTo(long ns, BooleanSupplier giveUp) throws InterruptedException {
    while (true) {
      long elapsed = System.nanoTime() - startNanos;
      if (elapsed >= ns) {
        // Whole milliseconds: wall time is not precise to the nanosecond, and the table shows it.
        return TimeUnit.MILLISECONDS.toNanos(TimeUnit.NANOSECONDS.toMillis(elapsed));
      }
      if (launcher.awaitStop(Math.min(ns - elapsed, POLL_NANOS)) || giveUp.getAsBoolean()) {
        return -1;
      }
    }
  }

  @Override
  public boolean holds() {
    return false;
  }

  @Override
  public LabClockState lastState() {
    return null;
  }

  @Override
  public void close() {
    // Nothing is held.
  }
}
