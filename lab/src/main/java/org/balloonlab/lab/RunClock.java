package org.balloonlab.lab;

import java.io.IOException;
import java.util.function.BooleanSupplier;
import org.balloonlab.proto.LabClockState;

/**
 * How a run's lab time gets from one instant at which the launcher has something to do (a sample, a scheduled
 * action, the end) to the next: held by the launcher on a lockstep hypervisor ({@link ClockHold}), so that what
 * it does lands at that definite simulated instant, or, on a hypervisor that runs free, by waiting for the wall
 * clock ({@link WallPacing}), as labs ran before the lab clock.
 */
interface RunClock extends AutoCloseable {
  /**
   * Lets the lab run to lab time {@code ns} (a lockstep hypervisor rounds it up to a quantum boundary) and keeps
   * it there until the next call.
   *
   * @param giveUp asked now and then while the lab runs: true to stop waiting (Ctrl-C, the hypervisor gone)
   * @return the lab time reached, in nanoseconds, or -1 if {@code giveUp} said to stop first
   * @throws IOException if the hypervisor refused the request or ended the hold
   */
  long runTo(long ns, BooleanSupplier giveUp) throws IOException, InterruptedException;

  /** Whether the lab stands still between two calls to {@link #runTo} (lockstep). */
  boolean holds();

  /** The clock as the hypervisor reported it when it last stopped for us, or {@code null}. */
  LabClockState lastState();

  /** Lets the clock go: a lockstep hypervisor's clock runs on by itself from here. */
  @Override
  void close();
}
