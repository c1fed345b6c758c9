package org.balloonlab.lab.experiment;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * An experiment's verdict, judged from its metrics with the criteria its definition wrote down before it ran:
 * {@link Outcome#MATCHES} when every {@code matches} and {@code shape} criterion holds (the paper's numbers, within
 * the stated tolerance), {@link Outcome#MATCHES_IN_SHAPE} when every {@code shape} criterion holds (the paper's
 * direction and order, not its numbers), {@link Outcome#DIFFERS} otherwise. A reduced run ({@code --vms}) is
 * {@link Outcome#NOT_JUDGED}: its criteria are still checked and listed, but they were written for the whole run.
 *
 * @param outcome the verdict
 * @param checks every criterion with its metric's value and whether it held, {@code matches} first
 */
public record Verdict(Outcome outcome, List<String> checks) {

  /** The three verdicts, as the docs write them, and what a reduced run gets instead. */
  public enum Outcome {
    MATCHES("matches"), MATCHES_IN_SHAPE("matches in shape"), DIFFERS("differs"),
    NOT_JUDGED("not judged (a reduced run)");

    private final String text;

    Outcome(String text) {
      this.text = text;
    }

    @Override
    public String toString() {
      return text;
    }
  }

  /** Judges the metrics. */
  public static Verdict judge(List<Criterion> matches, List<Criterion> shape, Map<String, Double> metrics) {
    boolean shapeHolds = shape.stream().allMatch(c -> c.holds(metrics));
    boolean matchHolds = shapeHolds && matches.stream().allMatch(c -> c.holds(metrics));
    List<String> checks = new ArrayList<>();
    matches.forEach(c -> checks.add("matches: " + c.explain(metrics)));
    shape.forEach(c -> checks.add("shape: " + c.explain(metrics)));
    Outcome o = matchHolds ? Outcome.MATCHES : shapeHolds ? Outcome.MATCHES_IN_SHAPE : Outcome.DIFFERS;
    return new Verdict(o, List.copyOf(checks));
  }

  /** A reduced run's: every criterion checked and listed, the outcome {@link Outcome#NOT_JUDGED}. */
  public static Verdict notJudged(List<Criterion> matches, List<Criterion> shape, Map<String, Double> metrics) {
    return new Verdict(Outcome.NOT_JUDGED, judge(matches, shape, metrics).checks());
  }
}
