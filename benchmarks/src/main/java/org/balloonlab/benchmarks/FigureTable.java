package org.balloonlab.benchmarks;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;

/** Prints a harness's figures as a table: text columns left-aligned, the value column right-aligned by its units. */
public final class FigureTable {
  private FigureTable() {}

  /** Prints {@code rows} under {@code header}. */
  public static void print(PrintWriter out, String[] header, List<String[]> rows) {
    int[] width = new int[header.length];
    for (int i = 0; i < header.length; i++) {
      width[i] = header[i].length();
      for (String[] r : rows) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    StringBuilder rule = new StringBuilder();
    for (int w : width) {
      rule.append("-".repeat(w)).append("  ");
    }
    printRow(out, header, width);
    out.println(rule.toString().stripTrailing());
    for (String[] r : rows) {
      printRow(out, r, width);
    }
  }

  /** A duration as the harnesses print it: {@code 5 s}, {@code 250 ms}. */
  public static String duration(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }

  private static void printRow(PrintWriter out, String[] cells, int[] width) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < cells.length; i++) {
      String pad = " ".repeat(width[i] - cells[i].length());
      b.append(i == 1 ? pad + cells[i] : cells[i] + pad).append("  ");
    }
    out.println(b.toString().stripTrailing());
  }
}
