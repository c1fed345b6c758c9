package org.balloonlab.benchmarks;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A harness's figures as the table it prints (figure, value, target, verdict), and the verdicts it adds up: a
 * figure with a target passes or misses, an audit passes or fails, a figure for information has no verdict. Text
 * columns are left-aligned, the value column right-aligned so values line up by their units.
 */
public final class FigureTable {
  private static final String[] HEADER = {"figure", "value", "target", "verdict"};

  private final List<String[]> rows = new ArrayList<>();
  private int misses;
  private long violations;

  /** A figure with a target: PASS if {@code met}, otherwise MISS, counted in {@link #misses()}. */
  public void target(String figure, String value, String target, boolean met) {
    rows.add(new String[] {figure, value, target, met ? "PASS" : "MISS"});
    misses += met ? 0 : 1;
  }

  /** An audit that must find nothing: PASS if {@code found} is 0, otherwise FAIL, counted in {@link #violations()}. */
  public void audit(String figure, String value, String target, long found) {
    rows.add(new String[] {figure, value, target, found == 0 ? "PASS" : "FAIL"});
    violations += found;
  }

  /** A figure shown for information, with a note where the target would be. */
  public void info(String figure, String value, String note) {
    rows.add(new String[] {figure, value, note, ""});
  }

  /** Targets missed so far. */
  public int misses() {
    return misses;
  }

  /** What the audits found so far. */
  public long violations() {
    return violations;
  }

  /** Prints the table between two blank lines. */
  public void print(PrintWriter out) {
    int[] width = new int[HEADER.length];
    for (int i = 0; i < HEADER.length; i++) {
      width[i] = HEADER[i].length();
      for (String[] r : rows) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    StringBuilder rule = new StringBuilder();
    for (int w : width) {
      rule.append("-".repeat(w)).append("  ");
    }
    out.println();
    printRow(out, HEADER, width);
    out.println(rule.toString().stripTrailing());
    for (String[] r : rows) {
      printRow(out, r, width);
    }
    out.println();
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
