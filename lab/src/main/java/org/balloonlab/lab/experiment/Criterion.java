package org.balloonlab.lab.experiment;

import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One test of a verdict, as an experiment's definition writes it: {@code METRIC OP NUMBER}, such as
 * {@code share_ratio >= 1.9}, where OP is one of {@code < <= > >= ==}. A metric the experiment did not compute
 * (or computed as not a number, because the run did not get that far) fails every test.
 *
 * @param metric the metric's name
 * @param op the comparison
 * @param value the number it is compared with
 */
public record Criterion(String metric, String op, double value) {
  private static final Pattern SYNTAX = Pattern.compile(
      "\\s*([a-z][a-z0-9_]*)\\s*(<=|>=|==|<|>)\\s*(-?[0-9]+(?:\\.[0-9]+)?)\\s*");
  /** Longest criterion text accepted, so a message never quotes unbounded input. */
  static final int MAX_LENGTH = 200;

  /** Reads {@code METRIC OP NUMBER}. @throws IllegalArgumentException saying what is wrong */
  public static Criterion parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("a criterion is empty; write METRIC OP NUMBER, such as share_ratio >= 1.9");
    }
    if (text.length() > MAX_LENGTH) {
      throw new IllegalArgumentException("a criterion is longer than " + MAX_LENGTH + " characters");
    }
    Matcher m = SYNTAX.matcher(text);
    if (!m.matches()) {
      throw new IllegalArgumentException("\"" + text.strip() + "\" is not METRIC OP NUMBER (OP one of < <= > >= ==; "
          + "METRIC in lower case letters, digits and _), such as share_ratio >= 1.9");
    }
    return new Criterion(m.group(1), m.group(2), Double.parseDouble(m.group(3)));
  }

  /** Whether the metrics pass this test; a missing or not-a-number metric does not. */
  public boolean holds(Map<String, Double> metrics) {
    Double v = metrics.get(metric);
    if (v == null || v.isNaN()) {
      return false;
    }
    return switch (op) {
      case "<" -> v < value;
      case "<=" -> v <= value;
      case ">" -> v > value;
      case ">=" -> v >= value;
      case "==" -> v == value;
      default -> throw new IllegalStateException("unknown comparison " + op);
    };
  }

  @Override
  public String toString() {
    return metric + " " + op + " " + ResultTable.number(value);
  }

  /** The test with the metric's value: {@code share_ratio = 2.01 >= 1.9: yes}. */
  public String explain(Map<String, Double> metrics) {
    Double v = metrics.get(metric);
    String got = v == null ? "not computed" : ResultTable.number(v);
    return String.format(Locale.ROOT, "%s (%s = %s): %s", this, metric, got, holds(metrics) ? "holds" : "fails");
  }
}
