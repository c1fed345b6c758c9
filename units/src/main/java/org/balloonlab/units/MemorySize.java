package org.balloonlab.units;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A memory size as written on a command line or in a file: {@code 4096}, {@code 512KiB}, {@code 512MiB},
 * {@code 4GiB}, {@code 1TiB} (binary units; {@code K}, {@code M}, {@code G}, {@code T} and {@code KB}... are read
 * as the same binary units, which is what people mean when they size memory).
 *
 * <p>Sizes are whole numbers of bytes, never negative. {@link #pages()} rounds down to whole 4 KiB pages and
 * {@link #requirePages(String)} refuses a size that is not a positive whole number of pages.
 */
public record MemorySize(long bytes) {

  private static final Pattern FORMAT =
      Pattern.compile("(\\d{1,19})\\s*([KMGT]?)(?:I?B)?", Pattern.CASE_INSENSITIVE);

  public MemorySize {
    if (bytes < 0) {
      throw new IllegalArgumentException("a memory size cannot be negative: " + bytes);
    }
  }

  public static MemorySize ofPages(long pages) {
    return new MemorySize(Math.multiplyExact(pages, PageSize.BYTES));
  }

  /**
   * Parses a size such as {@code 512MiB}.
   *
   * @throws IllegalArgumentException naming the text and the expected form when it cannot be read
   */
  public static MemorySize parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("a memory size is required, such as 512MiB or 4GiB");
    }
    String trimmed = text.trim();
    if (trimmed.startsWith("-")) {
      throw new IllegalArgumentException("a memory size cannot be negative: '" + text + "'");
    }
    Matcher m = FORMAT.matcher(trimmed);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "cannot read '" + text + "' as a memory size; write a whole number with a unit, such as 512MiB or 4GiB");
    }
    long value;
    try {
      value = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("memory size '" + text + "' is too large");
    }
    int shift = switch (m.group(2).toUpperCase(Locale.ROOT)) {
      case "" -> 0;
      case "K" -> 10;
      case "M" -> 20;
      case "G" -> 30;
      case "T" -> 40;
      default -> throw new IllegalStateException("unreachable: " + m.group(2));
    };
    if (value > (Long.MAX_VALUE >> shift)) {
      throw new IllegalArgumentException("memory size '" + text + "' is too large");
    }
    return new MemorySize(value << shift);
  }

  /** Whole 4 KiB pages in this size, rounded down. */
  public long pages() {
    return bytes / PageSize.BYTES;
  }

  /**
   * The size in pages, refusing sizes that are zero or not a whole number of pages.
   *
   * @param what names the setting in the error message, e.g. {@code "--memory"}
   */
  public long requirePages(String what) {
    if (bytes == 0 || bytes % PageSize.BYTES != 0) {
      throw new IllegalArgumentException(
          what + " must be a positive multiple of the 4 KiB page size, got " + this);
    }
    return pages();
  }

  @Override
  public String toString() {
    return format(bytes);
  }

  /** Formats a byte count in the largest binary unit that divides it, e.g. {@code 512MiB}. */
  public static String format(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    int unit = 0;
    long value = bytes;
    while (unit < units.length - 1 && value != 0 && value % 1024 == 0) {
      value /= 1024;
      unit++;
    }
    return value + units[unit];
  }

  /** A human reading of a page count, rounded to one decimal: {@code 1.5GiB}. */
  public static String humanPages(long pages) {
    double bytes = (double) pages * PageSize.BYTES;
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    int unit = 0;
    while (unit < units.length - 1 && Math.abs(bytes) >= 1024) {
      bytes /= 1024;
      unit++;
    }
    return String.format(Locale.ROOT, bytes == Math.rint(bytes) ? "%.0f%s" : "%.1f%s", bytes, units[unit]);
  }
}
