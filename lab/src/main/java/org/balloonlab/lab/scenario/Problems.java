package org.balloonlab.lab.scenario;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The mistakes found in one scenario file, each with the line it is on. Reading goes on after a mistake, so that
 * one run of the parser lists everything to fix; the file is refused at the end if any was found.
 */
final class Problems {
  private record Problem(int line, String text) {
  }

  private final String file;
  private final List<Problem> found = new ArrayList<>();

  /** @param file names the file in every message */
  Problems(String file) {
    this.file = file;
  }

  String file() {
    return file;
  }

  /** @param text {@code field: what is wrong} */
  void add(int line, String text) {
    found.add(new Problem(line, text));
  }

  boolean isEmpty() {
    return found.isEmpty();
  }

  /** The exception that refuses the file: every problem as {@code file:line: text}, in the order of the file. */
  ScenarioException failure() {
    List<Problem> sorted = new ArrayList<>(found);
    sorted.sort(Comparator.comparingInt(Problem::line));
    return new ScenarioException(sorted.stream().map(p -> file + ":" + p.line() + ": " + p.text()).toList());
  }
}
