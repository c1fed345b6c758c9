package org.balloonlab.guest.vcpu;

import java.util.SplittableRandom;
import org.balloonlab.guest.os.GuestProcess;
import org.balloonlab.guest.workload.ActivitySchedule;
import org.balloonlab.guest.workload.Workload;

/**
 * A process as the vCPU schedules it: its workload, the random source of its choices, and its pace.
 *
 * <p>A process whose workload has a rate ({@link Workload#ratePerSecond()}) makes its access number n (counting
 * from 0) no sooner than n / rate seconds of the guest's simulated time after boot; ahead of that it sleeps, and the
 * vCPU idles when every process sleeps. A workload with an {@link ActivitySchedule} sleeps through its idle
 * entries, and its rate counts over its active time only. The arithmetic is on integers, with no rounding of
 * doubles, so a process wakes at the same nanosecond on every run.
 */
final class Task {
  private static final long NS_PER_SECOND = 1_000_000_000L;

  final GuestProcess process;
  final Workload workload;
  final SplittableRandom random;
  private final long rate;
  /** When the workload works, or {@code null} for always. */
  private final ActivitySchedule schedule;
  /** Accesses made so far. */
  private long made;

  Task(GuestProcess process, Workload workload, SplittableRandom random) {
    this.process = process;
    this.workload = workload;
    this.random = random;
    this.rate = workload.ratePerSecond();
    this.schedule = workload.schedule();
    if (rate < 0) {
      throw new IllegalArgumentException("a workload's rate cannot be negative, got " + rate);
    }
  }

  /**
   * How many accesses the process may make in a slice that starts at guest time {@code nowNs}: {@code slice}, or
   * what is left of its share, 0 while it sleeps.
   */
  int allowance(long nowNs, int slice) {
    if (schedule != null && !schedule.activeAt(nowNs)) {
      return 0;
    }
    if (rate == 0) {
      return slice;
    }
    long t = schedule == null ? nowNs : schedule.activeNsBefore(nowNs);
    long share = t < 0 ? 0 : t / NS_PER_SECOND * rate + t % NS_PER_SECOND * rate / NS_PER_SECOND + 1;
    return (int) Math.max(0, Math.min(slice, share - made));
  }

  /**
   * Guest time at which the process, asleep at {@code nowNs}, may make its next access: the inverse of
   * {@link #allowance}.
   */
  long wakeNs(long nowNs) {
    if (rate == 0) {
      return schedule == null || schedule.activeAt(nowNs) ? 0 : schedule.nextSwitchAfter(nowNs);
    }
    if (schedule != null && !schedule.activeAt(nowNs)) {
      // Idle by the schedule: it wakes where the idle entry ends. Its share may be long due (a process that fell
      // behind its rate while active), so the share's due time could lie in the past.
      return schedule.nextSwitchAfter(nowNs);
    }
    long whole = made / rate * NS_PER_SECOND;
    long part = made % rate * NS_PER_SECOND;
    long due = whole + (part + rate - 1) / rate;
    // Active and asleep: its share is counted in active time, so the due time is where the schedule has been
    // active that long (after now, since the allowance at now was 0).
    return schedule == null ? due : schedule.timeAtActive(due);
  }

  void countAccess() {
    made++;
  }
}
