package org.balloonlab.hypervisor.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ActivitySamplerTest {
  private static final int PAGES = 10_000;
  private static final long PERIOD = 1_000;

  @Test
  void estimatesTheFractionOfPagesTouchedEachPeriod() {
    ActivitySampler s = new ActivitySampler(PAGES, 1000, PERIOD, 0.5, 0.1);
    SplittableRandom random = new SplittableRandom(1);
    assertEquals(1.0, s.activeFraction(), "a new VM counts as active");
    s.advance(0, pfn -> true, random);
    // A quarter of the pages are in use during the period.
    for (int pfn = 0; pfn < PAGES / 4; pfn++) {
      s.touch(pfn);
      s.touch(pfn); // a second touch of a sampled page counts once
    }
    s.advance(PERIOD / 2, pfn -> true, random);
    assertEquals(0, s.periods(), "the period has not ended");
    s.advance(PERIOD, pfn -> true, random);
    assertEquals(1, s.periods());
    assertEquals(0.25, s.activeFraction(), 0.05);
    assertEquals(s.fast(), s.slow(), "the first sample seeds both averages");
  }

  @Test
  void believesActivityAtOnceAndIdlenessSlowly() {
    ActivitySampler s = new ActivitySampler(PAGES, 500, PERIOD, 0.5, 0.1);
    SplittableRandom random = new SplittableRandom(2);
    long now = 0;
    s.advance(now, pfn -> true, random);
    for (int period = 0; period < 3; period++) {
      for (int pfn = 0; pfn < PAGES; pfn++) {
        s.touch(pfn);
      }
      s.advance(now += PERIOD, pfn -> true, random);
    }
    assertEquals(1.0, s.activeFraction(), 1e-9);
    s.advance(now += PERIOD, pfn -> true, random); // an idle period
    assertEquals(0.5, s.fast(), 1e-9);
    assertEquals(0.9, s.slow(), 1e-9);
    assertEquals(0.9, s.activeFraction(), 1e-9, "the slow average keeps the VM active for now");
    for (int i = 0; i < 30; i++) {
      s.advance(now += PERIOD, pfn -> true, random);
    }
    assertTrue(s.activeFraction() < 0.05, "idle long enough is idle: " + s.activeFraction());
  }

  @Test
  void seesAVmThatTurnsActiveMidPeriodBeforeThePeriodEnds() {
    ActivitySampler s = new ActivitySampler(PAGES, 500, PERIOD, 0.5, 0.1);
    SplittableRandom random = new SplittableRandom(4);
    long now = 0;
    s.advance(now, pfn -> true, random);
    for (int i = 0; i < 40; i++) { // idle for long enough that every average forgot the start
      s.advance(now += PERIOD, pfn -> true, random);
    }
    double idle = s.activeFraction();
    assertTrue(idle < 0.02, "idle: " + idle);
    // Half-way through the next period the VM starts touching all its memory.
    s.advance(now + PERIOD / 2, pfn -> true, random);
    for (int pfn = 0; pfn < PAGES; pfn++) {
      s.touch(pfn);
    }
    s.advance(now + PERIOD * 3 / 4, pfn -> true, random);
    long periodsBefore = s.periods();
    assertEquals(40, periodsBefore, "the period under way has not ended");
    assertTrue(s.fast() < 0.02 && s.slow() < 0.02, "neither average has seen the rise yet");
    assertEquals(0.5, s.current(), 0.02, "the third estimate counts the touches of the period under way");
    assertEquals(s.current(), s.activeFraction(), 1e-12, "and the estimate is the largest of the three");
    s.advance(now + PERIOD, pfn -> true, random);
    assertEquals(0.5, s.fast(), 0.02, "at the period's end the fast average reaches what the third one showed");
  }

  @Test
  void theCurrentEstimateNeverLowersTheEstimate() {
    ActivitySampler s = new ActivitySampler(PAGES, 500, PERIOD, 0.5, 0.1);
    SplittableRandom random = new SplittableRandom(5);
    s.advance(0, pfn -> true, random);
    for (int pfn = 0; pfn < PAGES; pfn++) {
      s.touch(pfn);
    }
    s.advance(PERIOD, pfn -> true, random); // a fully active period
    assertEquals(1.0, s.activeFraction(), 1e-9, "a new period with nothing touched yet does not pull it down");
    assertEquals(0.5, s.current(), 1e-9);
  }

  @Test
  void samplesOnlyBackedPages() {
    ActivitySampler s = new ActivitySampler(PAGES, 100, PERIOD, 0.5, 0.1);
    SplittableRandom random = new SplittableRandom(3);
    s.advance(0, pfn -> pfn < 100, random); // only 100 pages hold frames
    for (int pfn = 0; pfn < 100; pfn++) {
      s.touch(pfn);
    }
    s.advance(PERIOD, pfn -> pfn < 100, random);
    assertEquals(1, s.periods(), "some backed pages were sampled");
    assertEquals(1.0, s.activeFraction(), 1e-9, "every sampled page was a backed one, and all were touched");
  }

  @Test
  void refusesNonsense() {
    assertThrows(IllegalArgumentException.class, () -> new ActivitySampler(PAGES, 0, PERIOD, 0.5, 0.1));
    assertThrows(IllegalArgumentException.class, () -> new ActivitySampler(PAGES, 10, 0, 0.5, 0.1));
  }
}
