package org.balloonlab.guest.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the counts of the summary line a guest agent prints when it ends ({@link GuestAgentCommand#SUMMARY}
 * {@code key=value ...}), for the tools and tests that start guests as processes and read what they report.
 */
public final class GuestSummary {
  private GuestSummary() {}

  /** Every numeric {@code key=value} pair of the line, in order; names and other text are left out. */
  public static Map<String, Long> counts(String summary) {
    Map<String, Long> values = new LinkedHashMap<>();
    for (String kv : summary.trim().split(" ")) {
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        continue;
      }
      try {
        values.put(kv.substring(0, eq), Long.parseLong(kv.substring(eq + 1)));
      } catch (NumberFormatException e) {
        // A name, not a count.
      }
    }
    return values;
  }

  /**
   * One count of the line.
   *
   * @throws IllegalStateException if the line has no such count
   */
  public static long count(String summary, String key) {
    Long value = counts(summary).get(key);
    if (value == null) {
      throw new IllegalStateException("the guest summary has no " + key + ": " + summary);
    }
    return value;
  }
}
