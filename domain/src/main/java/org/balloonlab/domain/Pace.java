package org.balloonlab.domain;

import java.util.Locale;

/**
 * How fast a lab's clock may run: {@code max} (as fast as the CPUs allow, the default of scenarios and
 * experiments) or a factor such as {@code 1x} (no faster than wall time, for interactive labs), {@code 0.5x} or
 * {@code 10x}: simulated seconds per wall second at most. The pace changes how long a run takes, never its
 * results ({@code docs/lab-clock.md}).
 *
 * @param factor simulated seconds per wall second at most; 0 for {@code max}
 */
public record Pace(double factor) {
  /** As fast as the CPUs allow. */
  public static final Pace MAX = new Pace(0);
  /** No faster than wall time. */
  public static final Pace REAL_TIME = new Pace(1);
  /** The largest factor accepted; beyond it the clock is as good as {@code max}. */
  public static final double MAX_FACTOR = 1_000_000;

  public Pace {
    if (!(factor >= 0 && factor <= MAX_FACTOR)) {
      throw new IllegalArgumentException("a pace is max or a factor above 0 and at most " + (long) MAX_FACTOR
          + ", got " + factor);
    }
  }

  /**
   * Reads {@code max}, or a positive factor followed by {@code x} ({@code 1x}, {@code 0.25x}); the {@code x} may
   * be left out.
   *
   * @throws IllegalArgumentException saying what is accepted
   */
  public static Pace parse(String text) {
    String v = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    if (v.equals("max")) {
      return MAX;
    }
    String number = v.endsWith("x") ? v.substring(0, v.length() - 1) : v;
    double f;
    try {
      f = Double.parseDouble(number);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("a pace is max or a factor such as 1x or 0.5x, got " + VmName.quote(text));
    }
    if (!(f > 0 && f <= MAX_FACTOR)) {
      throw new IllegalArgumentException("a pace factor is above 0 and at most " + (long) MAX_FACTOR + ", got "
          + VmName.quote(text));
    }
    return new Pace(f);
  }

  public boolean isMax() {
    return factor == 0;
  }

  /** As users write it: {@code max}, {@code 1x}, {@code 0.5x}. */
  @Override
  public String toString() {
    if (isMax()) {
      return "max";
    }
    return (factor == Math.rint(factor) ? Long.toString((long) factor) : Double.toString(factor)) + "x";
  }
}
