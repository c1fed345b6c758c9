package org.balloonlab.domain;

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

  private VmName() {}

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
