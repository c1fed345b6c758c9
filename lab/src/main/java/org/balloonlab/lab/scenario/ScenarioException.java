package org.balloonlab.lab.scenario;

import java.util.List;

/**
 * A scenario file that cannot be run. Carries every problem found, each naming the file, the line and the
 * field ({@code scenarios/bad.yaml:12: guests[1].memory: ...}), so one pass over the file fixes them all.
 */
public final class ScenarioException extends Exception {
  private static final long serialVersionUID = 1L;

  /** @param problems each as {@code file:line: field: what is wrong}; the message has one a line */
  public ScenarioException(List<String> problems) {
    super(String.join(System.lineSeparator(), problems));
  }
}
