package org.balloonlab.domain;

import java.util.Comparator;
import java.util.regex.Pattern;

/**
 * The rule a VM's name follows: 1 to 64 letters, digits, {@code .}, {@code _} or {@code -}. Names travel in
 * messages, file names (a guest's swap file, a run's report) and log lines, so they stay short and need no
 * quoting. The hypervisor applies the same rule to a guest's OS kind.
 */
public final class VmName {
  /** The rule in words, for messages: "must be " + RULE. */
  public static final String RULE = "1-64 characters of letters, digits, '.', '_' or '-'";

  private static final Pattern PATTERN = Pattern.compile("[A-Za-z0-9._-]{1,64}");

  /**
   * Names in the order people count them: runs of digits compare by their value, so {@code vm2} comes before
   * {@code vm10}; the rest compares character by character. Names equal but for leading zeros ({@code vm01},
   * {@code vm1}) fall back to plain string order, so the order is total and consistent with {@code equals}.
   */
  public static final Comparator<String> NATURAL_ORDER = VmName::compareNaturally;

  private VmName() {}

  private static int compareNaturally(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      char ca = a.charAt(i);
      char cb = b.charAt(j);
      if (isDigit(ca) && isDigit(cb)) {
        int endA = digitsEnd(a, i);
        int endB = digitsEnd(b, j);
        int c = compareNumbers(a, i, endA, b, j, endB);
        if (c != 0) {
          return c;
        }
        i = endA;
        j = endB;
      } else {
        if (ca != cb) {
          return Character.compare(ca, cb);
        }
        i++;
        j++;
      }
    }
    int byLength = Integer.compare(a.length() - i, b.length() - j);
    return byLength != 0 ? byLength : a.compareTo(b);
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static int digitsEnd(String s, int from) {
    int end = from;
    while (end < s.length() && isDigit(s.charAt(end))) {
      end++;
    }
    return end;
  }

  /** Compares two runs of digits by value, however long (no overflow): leading zeros skipped, then by length. */
  private static int compareNumbers(String a, int i, int endA, String b, int j, int endB) {
    while (i < endA - 1 && a.charAt(i) == '0') {
      i++;
    }
    while (j < endB - 1 && b.charAt(j) == '0') {
      j++;
    }
    int byLength = Integer.compare(endA - i, endB - j);
    if (byLength != 0) {
      return byLength;
    }
    for (; i < endA; i++, j++) {
      int c = Character.compare(a.charAt(i), b.charAt(j));
      if (c != 0) {
        return c;
      }
    }
    return 0;
  }

  /** Whether {@code name} follows the rule; {@code null} does not. */
  public static boolean isValid(String name) {
    return name != null && PATTERN.matcher(name).matches();
  }

  /**
   * {@code text} quoted for a message, cut to its first 64 characters with its length said when longer, so a
   * message never echoes unbounded input.
   */
  public static String quote(String text) {
    if (text == null) {
      return "null";
    }
    return text.length() <= 64 ? "'" + text + "'" : "'" + text.substring(0, 64) + "...' (" + text.length()
        + " characters)";
  }

  /**
   * Returns {@code name} if it follows the rule.
   *
   * @throws IllegalArgumentException "VM name must be 1-64 characters of ..., got 'name'"
   */
  public static String require(String name) {
    if (!isValid(name)) {
      throw new IllegalArgumentException("VM name must be " + RULE + ", got " + quote(name));
    }
    return name;
  }
}
