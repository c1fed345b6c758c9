package org.balloonlab.benchmarks;

import java.util.Arrays;

/**
 * The median the harnesses report their repeated figures by: less moved than a mean by the odd slow run a busy
 * host gives (a collection, another process's time slice). Of an even count, the mean of the middle two.
 */
public final class Medians {
  private Medians() {}

  /** The median of {@code values}; NaN for none. */
  public static double of(double[] values) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] s = values.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  /** The median of {@code values}; NaN for none. */
  public static double of(long[] values) {
    return of(Arrays.stream(values).asDoubleStream().toArray());
  }
}
