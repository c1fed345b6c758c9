package org.balloonlab.benchmarks.dataplane;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import org.balloonlab.benchmarks.FigureTable;
import org.junit.jupiter.api.Test;

/** The lab clock part's arithmetic and verdicts, on made-up runs: nothing here is timed. */
class LabClockCostTest {
  private static final Duration Q = Duration.ofMillis(10);

  /** A run that made {@code rate} accesses a second for one second, with {@code quanta} quanta taken. */
  private static GrpcGuest.Outcome run(double rate, long quanta, long violations) {
    ThroughputRun.Result r = new ThroughputRun.Result((long) rate, 1_000_000_000L, 0, 0, 2_000_000_000L, 0, -1, -1,
        new long[0], violations, 0);
    return new GrpcGuest.Outcome(r, quanta > 0, new MeasuredLabClock.Counts(quanta, 0));
  }

  private static LabClockCost.Pair pair(double free, double lockstep) {
    return new LabClockCost.Pair(run(free, 0, 0), run(lockstep, 100, 0));
  }

  private static String table(LabClockCost.Result result) {
    FigureTable figures = new FigureTable();
    result.addTo(figures);
    StringWriter text = new StringWriter();
    figures.print(new PrintWriter(text, true));
    return text.toString();
  }

  @Test
  void eachPairIsLockstepOverTheFreeRunItFollows() {
    LabClockCost.Result r = new LabClockCost.Result(Q, List.of(pair(2e6, 1.8e6), pair(1e6, 0.5e6),
        pair(4e6, 3.6e6)), List.of());
    assertArrayEquals(new double[] {0.9, 0.5, 0.9}, r.ratios(), 1e-12);
    // The median of the ratios, not the ratio of the medians (0.9 here, 3.6M / 4M in the other way).
    assertEquals(0.9, r.medianRatio(), 1e-12);
    assertEquals(2e6, r.medianFreeRate(), 1e-6);
  }

  @Test
  void anEvenNumberOfPairsTakesTheMeanOfTheMiddleTwo() {
    LabClockCost.Result r = new LabClockCost.Result(Q, List.of(pair(1e6, 0.7e6), pair(1e6, 0.8e6)), List.of());
    assertEquals(0.75, r.medianRatio(), 1e-12);
  }

  @Test
  void theMedianMeetsTheTargetAtThreeQuarters() {
    FigureTable at = new FigureTable();
    new LabClockCost.Result(Q, List.of(pair(1e6, 0.75e6)), List.of()).addTo(at);
    assertEquals(0, at.misses());
    FigureTable below = new FigureTable();
    new LabClockCost.Result(Q, List.of(pair(1e6, 0.9e6), pair(1e6, 0.6e6), pair(1e6, 0.7e6)), List.of())
        .addTo(below);
    assertEquals(1, below.misses(), "a median of 0.7 misses, although one pair passes");
  }

  @Test
  void theTablePrintsEveryPairItsMedianAndTheVerdict() {
    String t = table(new LabClockCost.Result(Q, List.of(pair(2e6, 1.8e6), pair(1e6, 0.5e6), pair(4e6, 3.6e6)),
        List.of()));
    assertTrue(t.contains("lockstep 10 ms / free, pair 2"), t);
    assertTrue(t.contains("0.500  0.50M / 1.00M accesses/s"), t);
    assertTrue(t.lines().anyMatch(l -> l.startsWith("lockstep 10 ms / free, median of 3") && l.contains("0.900")
        && l.contains(">= 0.75") && l.endsWith("PASS")), t);
  }

  @Test
  void aClockStepIsTheIdleGuestsWallTimeOverTheQuantaItTook() {
    // 1 s of wall time, 5000 quanta of 1 ms: 200 us a boundary, 5 simulated seconds per wall second.
    ThroughputRun.Result idle = new ThroughputRun.Result(4096, 1_000_000_000L, 0, 0, 5_000_000_000L, 0, -1, -1,
        new long[0], 0, 0);
    LabClockCost.Step step = new LabClockCost.Step(Duration.ofMillis(1),
        new GrpcGuest.Outcome(idle, true, new MeasuredLabClock.Counts(5000, 1)), run(1.5e6, 300, 0));
    assertEquals(200.0, step.microsPerBoundary(), 1e-9);
    assertEquals(5.0, step.idleSimulatedPerWallSecond(), 1e-9);
    String t = table(new LabClockCost.Result(Q, List.of(pair(2e6, 1.8e6)), List.of(step)));
    assertTrue(t.contains("clock step, idle guest, quantum 1 ms"), t);
    assertTrue(t.contains("200.0 us/boundary  5,000 boundaries/s, 5.0 simulated s per wall s"), t);
    assertTrue(t.contains("1,500,000 accesses/s  0.750 of the pairs' free median"), t);
  }

  @Test
  void aViolationInAnyRunFailsTheAudit() {
    LabClockCost.Step step = new LabClockCost.Step(Q, run(4096, 100, 0), run(1e6, 100, 2));
    FigureTable figures = new FigureTable();
    LabClockCost.Result r = new LabClockCost.Result(Q, List.of(pair(1e6, 0.9e6)), List.of(step));
    r.addTo(figures);
    assertEquals(2, figures.violations());
    assertEquals(4, r.runs().size());
  }
}
