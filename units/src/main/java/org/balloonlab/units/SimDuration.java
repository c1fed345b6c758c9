package org.balloonlab.units;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses durations as written on a command line: {@code 250ms}, {@code 30s}, {@code 2m}, {@code 1h}. */
public final class SimDuration {
  private static final Pattern FORMAT = Pattern.compile("(\\d{1,12})\\s*(ms|s|m|h)", Pattern.CASE_INSENSITIVE);

  private SimDuration() {}

  /**
   * @throws IllegalArgumentException naming the text and the expected form
   */
  public static Duration parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("a duration is required, such as 30s or 500ms");
    }
    Matcher m = FORMAT.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "cannot read '" + text + "' as a duration; write a whole number with ms, s, m or h, such as 30s");
    }
    long value = Long.parseLong(m.group(1));
    return switch (m.group(2).toLowerCase(Locale.ROOT)) {
      case "ms" -> Duration.ofMillis(value);
      case "s" -> Duration.ofSeconds(value);
      case "m" -> Duration.ofMinutes(value);
      case "h" -> Duration.ofHours(value);
      default -> throw new IllegalStateException("unreachable");
    };
  }
}
