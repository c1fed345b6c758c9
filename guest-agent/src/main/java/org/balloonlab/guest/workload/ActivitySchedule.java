package org.balloonlab.guest.workload;

import java.time.Duration;
import java.util.Locale;
import org.balloonlab.units.SimDuration;

/**
 * When a workload works and when it idles, on the guest's simulated time since its boot: the workload key
 * {@code schedule=idle:30s/active:60s/idle}. Each entry is {@code active} or {@code idle} with how long it lasts;
 * the last one may leave its length out and then lasts for ever; when every entry has a length, the schedule
 * starts over after the last (a cycle). An idle workload makes no access at all, so the hypervisor's activity
 * sampler sees its VM idle, which is what the idle memory tax experiments (Waldspurger, OSDI 2002, Fig. 7) need:
 * a VM that switches between idle and active at given times, the same on every run.
 *
 * <p>A workload with a rate ({@link Workload#ratePerSecond()}) counts its share of accesses over its active time
 * only ({@link #activeNsBefore}), so it does not make up for an idle phase with a burst when it turns active.
 * Integer arithmetic only, so a switch happens at the same nanosecond on every run.
 */
public final class ActivitySchedule {
  /** The most entries a schedule may have. */
  public static final int MAX_ENTRIES = 64;
  /** Marks the last entry's length when it lasts for ever. */
  private static final long FOREVER = Long.MAX_VALUE;
  private static final long MAX_ENTRY_NS = Duration.ofDays(365).toNanos();

  private final boolean[] active;
  private final long[] lengthNs;
  /** The length of one cycle, or 0 when the last entry lasts for ever. */
  private final long cycleNs;
  private final long activePerCycleNs;
  private final String text;

  private ActivitySchedule(boolean[] active, long[] lengthNs, String text) {
    this.active = active;
    this.lengthNs = lengthNs;
    this.text = text;
    long cycle = 0;
    long activeNs = 0;
    boolean forever = lengthNs[lengthNs.length - 1] == FOREVER;
    for (int i = 0; i < lengthNs.length; i++) {
      if (lengthNs[i] != FOREVER) {
        cycle += lengthNs[i];
        activeNs += active[i] ? lengthNs[i] : 0;
      }
    }
    this.cycleNs = forever ? 0 : cycle;
    this.activePerCycleNs = activeNs;
  }

  /**
   * Reads {@code idle:30s/active:60s/idle}.
   *
   * @throws IllegalArgumentException naming the entry that is wrong
   */
  public static ActivitySchedule parse(String text) {
    String[] entries = text.split("/", -1);
    if (entries.length > MAX_ENTRIES) {
      throw new IllegalArgumentException("workload option schedule has " + entries.length + " entries; at most "
          + MAX_ENTRIES);
    }
    boolean[] active = new boolean[entries.length];
    long[] lengths = new long[entries.length];
    for (int i = 0; i < entries.length; i++) {
      String e = entries[i].trim();
      int colon = e.indexOf(':');
      String state = (colon < 0 ? e : e.substring(0, colon)).trim().toLowerCase(Locale.ROOT);
      if (!state.equals("active") && !state.equals("idle")) {
        throw new IllegalArgumentException("workload option schedule: entry " + (i + 1) + " '" + shorten(e)
            + "' must be active:DURATION or idle:DURATION, such as schedule=idle:30s/active:60s");
      }
      active[i] = state.equals("active");
      if (colon < 0) {
        if (i != entries.length - 1) {
          throw new IllegalArgumentException("workload option schedule: entry " + (i + 1) + " '" + state
              + "' needs a length (only the last entry may last for ever)");
        }
        lengths[i] = FOREVER;
        continue;
      }
      Duration d;
      try {
        d = SimDuration.parse(e.substring(colon + 1));
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException("workload option schedule: entry " + (i + 1) + " '" + shorten(e)
            + "': the length must be a whole number with ms, s, m or h, such as 30s");
      }
      if (d.isZero() || d.toNanos() > MAX_ENTRY_NS) {
        throw new IllegalArgumentException("workload option schedule: entry " + (i + 1) + " '" + shorten(e)
            + "' must last more than 0 and at most 365 days");
      }
      lengths[i] = d.toNanos();
    }
    ActivitySchedule s = new ActivitySchedule(active, lengths, text.trim());
    if (s.cycleNs > 0 && s.activePerCycleNs == 0) {
      // Legal, but such a workload never makes an access; it is almost surely a mistake.
      throw new IllegalArgumentException("workload option schedule never turns active; use the idle workload "
          + "for a process that does nothing");
    }
    return s;
  }

  private static String shorten(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }

  /** Whether the workload works at guest time {@code nowNs}. */
  public boolean activeAt(long nowNs) {
    return active[entryAt(nowNs)];
  }

  /** Active time in {@code [0, nowNs)}. */
  public long activeNsBefore(long nowNs) {
    if (nowNs <= 0) {
      return 0;
    }
    long base = 0;
    long t = nowNs;
    if (cycleNs > 0) {
      base = (t / cycleNs) * activePerCycleNs;
      t %= cycleNs;
    }
    long sum = 0;
    for (int i = 0; i < lengthNs.length && t > 0; i++) {
      long len = Math.min(lengthNs[i], t);
      if (active[i]) {
        sum += len;
      }
      t -= len;
    }
    return base + sum;
  }

  /**
   * The earliest guest time, inside an active entry, by which the workload has been active for {@code activeNs}:
   * when a paced workload's next access is due. {@link Long#MAX_VALUE} if it never is.
   */
  public long timeAtActive(long activeNs) {
    long base = 0;
    long a = activeNs;
    if (cycleNs > 0) {
      long cycles = a / activePerCycleNs;
      a -= cycles * activePerCycleNs;
      if (cycles > Long.MAX_VALUE / cycleNs) {
        return Long.MAX_VALUE;
      }
      base = cycles * cycleNs;
    }
    long start = 0;
    for (int i = 0; i < lengthNs.length; i++) {
      if (active[i] && (lengthNs[i] == FOREVER || a < lengthNs[i])) {
        return base + start + a;
      }
      if (active[i]) {
        a -= lengthNs[i];
      }
      if (lengthNs[i] == FOREVER) {
        return Long.MAX_VALUE; // idle for ever
      }
      start += lengthNs[i];
    }
    return Long.MAX_VALUE; // unreachable: a cycle has active time, and a is below a cycle's worth of it
  }

  /** The guest time at which the entry holding {@code nowNs} ends, {@link Long#MAX_VALUE} for the last for ever. */
  public long nextSwitchAfter(long nowNs) {
    long t = Math.max(0, nowNs);
    long base = 0;
    if (cycleNs > 0) {
      base = (t / cycleNs) * cycleNs;
      t %= cycleNs;
    }
    long end = 0;
    for (long len : lengthNs) {
      if (len == FOREVER) {
        return Long.MAX_VALUE;
      }
      end += len;
      if (t < end) {
        return base + end;
      }
    }
    return base + cycleNs; // unreachable
  }

  private int entryAt(long nowNs) {
    long t = Math.max(0, nowNs);
    if (cycleNs > 0) {
      t %= cycleNs;
    }
    for (int i = 0; i < lengthNs.length; i++) {
      if (lengthNs[i] == FOREVER || t < lengthNs[i]) {
        return i;
      }
      t -= lengthNs[i];
    }
    return lengthNs.length - 1;
  }

  @Override
  public String toString() {
    return text;
  }
}
