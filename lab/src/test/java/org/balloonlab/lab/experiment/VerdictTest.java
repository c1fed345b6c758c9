package org.balloonlab.lab.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VerdictTest {
  private static final List<Criterion> MATCHES = List.of(Criterion.parse("ratio >= 1.9"),
      Criterion.parse("ratio <= 2.1"), Criterion.parse("violations == 0"));
  private static final List<Criterion> SHAPE = List.of(Criterion.parse("ratio > 1.5"),
      Criterion.parse("violations == 0"));

  @Test
  void criteriaAreReadAndTested() {
    Criterion c = Criterion.parse("  share_ratio>=1.9 ");
    assertEquals(new Criterion("share_ratio", ">=", 1.9), c);
    assertTrue(c.holds(Map.of("share_ratio", 1.9)));
    assertFalse(c.holds(Map.of("share_ratio", 1.89)));
    assertTrue(Criterion.parse("x < -1").holds(Map.of("x", -2.0)));
    assertTrue(Criterion.parse("x == 0").holds(Map.of("x", 0.0)));
    assertFalse(Criterion.parse("x > 0").holds(Map.of()), "a metric not computed fails");
    assertFalse(Criterion.parse("x < 5").holds(Map.of("x", Double.NaN)), "a metric not a number fails");
    assertEquals("x > 0 (x = 2.5): holds", Criterion.parse("x > 0").explain(Map.of("x", 2.5)));
  }

  @Test
  void badCriteriaAreRefusedWithTheSyntax() {
    for (String bad : List.of("", "ratio", "ratio >", "ratio => 2", "Ratio > 2", "ratio > two", "ratio != 2",
        "x > 1 and y > 2")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Criterion.parse(bad), bad);
      assertTrue(e.getMessage().contains("METRIC OP NUMBER"), e.getMessage());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Criterion.parse("x > " + "1".repeat(300)));
    assertTrue(e.getMessage().contains("longer than"), e.getMessage());
  }

  @Test
  void matchesWhenEveryCriterionHolds() {
    Verdict v = Verdict.judge(MATCHES, SHAPE, Map.of("ratio", 2.0, "violations", 0.0));
    assertEquals(Verdict.Outcome.MATCHES, v.outcome());
    assertEquals(5, v.checks().size());
    assertTrue(v.checks().stream().allMatch(c -> c.endsWith("holds")), v.checks().toString());
  }

  @Test
  void matchesInShapeWhenOnlyTheShapeHolds() {
    Verdict v = Verdict.judge(MATCHES, SHAPE, Map.of("ratio", 1.7, "violations", 0.0));
    assertEquals(Verdict.Outcome.MATCHES_IN_SHAPE, v.outcome());
    assertEquals("matches in shape", v.outcome().toString());
    assertTrue(v.checks().contains("matches: ratio >= 1.9 (ratio = 1.7): fails"), v.checks().toString());
  }

  @Test
  void differsWhenTheShapeFails() {
    assertEquals(Verdict.Outcome.DIFFERS, Verdict.judge(MATCHES, SHAPE, Map.of("ratio", 1.2, "violations", 0.0))
        .outcome());
    // A violation breaks both lists: never "matches" with an integrity or isolation violation.
    assertEquals(Verdict.Outcome.DIFFERS, Verdict.judge(MATCHES, SHAPE, Map.of("ratio", 2.0, "violations", 1.0))
        .outcome());
    // The matches list alone never makes a match when the shape fails.
    assertEquals(Verdict.Outcome.DIFFERS, Verdict.judge(List.of(Criterion.parse("ratio > 0")),
        List.of(Criterion.parse("ratio > 5")), Map.of("ratio", 2.0)).outcome());
  }

  @Test
  void aReducedRunIsCheckedButNotJudged() {
    Verdict v = Verdict.notJudged(MATCHES, SHAPE, Map.of("ratio", 2.0, "violations", 0.0));
    assertEquals(Verdict.Outcome.NOT_JUDGED, v.outcome());
    assertEquals("not judged (a reduced run)", v.outcome().toString());
    assertEquals(Verdict.judge(MATCHES, SHAPE, Map.of("ratio", 2.0, "violations", 0.0)).checks(), v.checks());
  }
}
