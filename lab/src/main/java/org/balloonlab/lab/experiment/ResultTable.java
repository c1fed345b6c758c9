package org.balloonlab.lab.experiment;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A table of an experiment's results, written as CSV, as Markdown and as aligned text for the terminal.
 *
 * @param name names its files ({@code NAME.csv}, and its section in {@code result.md})
 * @param title what it shows, one line
 * @param columns the header
 * @param rows the cells, each row as wide as the header
 */
public record ResultTable(String name, String title, List<String> columns, List<List<String>> rows) {

  /** @throws IllegalArgumentException if a row is not as wide as the header */
  public ResultTable {
    columns = List.copyOf(columns);
    List<List<String>> copy = new ArrayList<>();
    for (List<String> row : rows) {
      if (row.size() != columns.size()) {
        throw new IllegalArgumentException("table " + name + ": a row of " + row.size() + " cells under "
            + columns.size() + " columns");
      }
      copy.add(List.copyOf(row));
    }
    rows = List.copyOf(copy);
  }

  /** A number as the tables print it: up to 3 decimals, no trailing zeros; {@code -} for not a number. */
  public static String number(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return "-";
    }
    String s = String.format(Locale.ROOT, "%.3f", v);
    s = s.replaceFirst("0+$", "").replaceFirst("\\.$", "");
    return s.equals("-0") ? "0" : s;
  }

  /** RFC 4180 CSV: cells with a comma, quote or line break are quoted. */
  public String csv() {
    StringBuilder b = new StringBuilder();
    csvRow(b, columns);
    rows.forEach(r -> csvRow(b, r));
    return b.toString();
  }

  private static void csvRow(StringBuilder b, List<String> cells) {
    for (int i = 0; i < cells.size(); i++) {
      String c = cells.get(i);
      if (i > 0) {
        b.append(',');
      }
      if (c.contains(",") || c.contains("\"") || c.contains("\n")) {
        b.append('"').append(c.replace("\"", "\"\"")).append('"');
      } else {
        b.append(c);
      }
    }
    b.append("\r\n");
  }

  /** A GitHub Markdown table; a {@code |} in a cell is escaped. */
  public String markdown() {
    StringBuilder b = new StringBuilder();
    mdRow(b, columns);
    b.append('|');
    columns.forEach(c -> b.append("---|"));
    b.append('\n');
    rows.forEach(r -> mdRow(b, r));
    return b.toString();
  }

  private static void mdRow(StringBuilder b, List<String> cells) {
    b.append('|');
    for (String c : cells) {
      b.append(' ').append(c.replace("|", "\\|").replace("\n", " ")).append(" |");
    }
    b.append('\n');
  }

  /** Aligned columns for a terminal. */
  public String text() {
    int[] width = new int[columns.size()];
    for (int i = 0; i < width.length; i++) {
      width[i] = columns.get(i).length();
      for (List<String> r : rows) {
        width[i] = Math.max(width[i], r.get(i).length());
      }
    }
    StringBuilder b = new StringBuilder();
    textRow(b, columns, width);
    StringBuilder rule = new StringBuilder();
    for (int i = 0; i < width.length; i++) {
      rule.append(i == 0 ? "" : "-+-").append("-".repeat(width[i]));
    }
    b.append(rule).append('\n');
    rows.forEach(r -> textRow(b, r, width));
    return b.toString();
  }

  private static void textRow(StringBuilder b, List<String> cells, int[] width) {
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      line.append(i == 0 ? "" : " | ").append(String.format(Locale.ROOT, "%-" + width[i] + "s", cells.get(i)));
    }
    b.append(line.toString().stripTrailing()).append('\n');
  }
}
