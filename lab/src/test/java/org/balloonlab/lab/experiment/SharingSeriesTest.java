package org.balloonlab.lab.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.balloonlab.lab.report.VmSample;
import org.junit.jupiter.api.Test;

/** The page-sharing curve read from a made-up run whose second guest starts at 3 s, sampled every 0.5 s. */
class SharingSeriesTest {
  private static final long FRAMES = 1000;

  private static VmSample sample(double t, String vm, long mapped, long shared, long free) {
    return new VmSample(t, vm, 128, mapped, 0, 0, 0, 0, 0, 0, 0, 0, t, free, "high", 0, shared);
  }

  /**
   * vm1 alone until 3 s: 100 pages mapped, 10 of them zero pages on one frame (9 saved) from 1 s. vm2 listed from
   * 3 s (nothing mapped yet), then both: 60 identical pages each on 60 frames and 10 zero pages each on the zero
   * frame, 140 references on 61 frames, 79 saved.
   */
  private static List<VmSample> run() {
    List<VmSample> s = new ArrayList<>();
    for (int i = 0; i <= 12; i++) {
      double t = i / 2.0;
      if (t < 3) {
        long shared = t == 0 ? 0 : t < 1 ? 8 : 10;
        long mapped = t == 0 ? 0 : 100;
        long saved = Math.max(0, shared - 1);
        s.add(sample(t, "vm1", mapped, shared, FRAMES - (mapped - saved)));
      } else if (t == 3) {
        s.add(sample(t, "vm1", 100, 10, FRAMES - 91));
        s.add(sample(t, "vm2", 0, 0, FRAMES - 91));
      } else {
        s.add(sample(t, "vm1", 100, 70, FRAMES - (200 - 79)));
        s.add(sample(t, "vm2", 100, 70, FRAMES - (200 - 79)));
      }
    }
    return s;
  }

  @Test
  void eachPointIsTheLastSampleBeforeTheNextGuestOrTheEnd() {
    List<SharingSeries.Point> p = SharingSeries.points(run(), FRAMES);
    assertEquals(2, p.size());
    assertEquals(new SharingSeries.Point(1, 2.5, 100, 10, 9, 0), p.get(0));
    assertEquals(new SharingSeries.Point(2, 6.0, 200, 140, 79, 0), p.get(1));
    assertEquals(10, p.get(0).sharedPct(), 1e-9);
    assertEquals(39.5, p.get(1).reclaimedPct(), 1e-9);
    assertEquals(1, SharingSeries.monotone(p));
    assertEquals(0, SharingSeries.settle(p));
  }

  @Test
  void theModelIsTheOneVmShareAndEveryCopyButOne() {
    assertEquals(40, SharingSeries.modelReclaimedPct(10, 70, 2), 1e-9);
    assertEquals(10 + 60 * 0.9, SharingSeries.modelReclaimedPct(10, 70, 10), 1e-9);
    // 39.5 % reclaimed against the model's 40 %: the zero frame is the half point.
    assertEquals(0.5, SharingSeries.modelGap(SharingSeries.points(run(), FRAMES)), 1e-9);
  }

  @Test
  void aStepStillMovingInItsLastSecondSaysBy() {
    // At 5 s, one second before the 2-VM point, vm2 had 40 of its 70 pages shared: 30 pages moved since.
    List<VmSample> samples = new ArrayList<>(run());
    samples.replaceAll(s -> s.labSeconds() == 5.0 ? sample(5.0, s.vm(), 100, 40, FRAMES - (200 - 49)) : s);
    List<SharingSeries.Point> p = SharingSeries.points(samples, FRAMES);
    // shared 80 of 200 (40 %) -> 140 (70 %): 30 points; reclaimed 49 (24.5 %) -> 79 (39.5 %): 15 points.
    assertEquals(30, p.get(1).settle(), 1e-9);
    assertEquals(30, SharingSeries.settle(p), 1e-9);
  }

  @Test
  void aGuestThatEndsEndsTheSeries() {
    List<VmSample> samples = new ArrayList<>(run());
    samples.add(sample(6.5, "vm1", 100, 10, FRAMES - 91));
    List<SharingSeries.Point> p = SharingSeries.points(samples, FRAMES);
    assertEquals(2, p.size());
    assertEquals(6.0, p.get(1).labSeconds());
  }

  @Test
  void noGrowthIsNotMonotoneAndTooFewPointsTellNothing() {
    SharingSeries.Point one = new SharingSeries.Point(1, 1, 100, 10, 9, 0);
    assertEquals(1, SharingSeries.monotone(List.of(one, new SharingSeries.Point(2, 2, 200, 140, 79, 0))));
    assertEquals(0, SharingSeries.monotone(List.of(one, new SharingSeries.Point(2, 2, 200, 140, 18, 0))),
        "more saved, but the same reclaimed share (9 %)");
    assertEquals(0, SharingSeries.monotone(List.of(one, new SharingSeries.Point(2, 2, 200, 140, 9, 0))),
        "nothing more saved");
    List<SharingSeries.Point> gap = List.of(one, new SharingSeries.Point(3, 2, 300, 200, 150, 0));
    assertEquals(0, SharingSeries.monotone(gap), "a VM missing from the series");
    assertTrue(Double.isNaN(SharingSeries.monotone(List.of(one))));
    assertTrue(Double.isNaN(SharingSeries.modelGap(List.of(one))));
    assertTrue(Double.isNaN(SharingSeries.modelGap(gap.subList(1, 2))), "no one-VM point");
    assertTrue(Double.isNaN(SharingSeries.settle(List.of(new SharingSeries.Point(1, 0.5, 100, 10, 9, Double.NaN)))),
        "a step without a sample a second back cannot tell");
  }
}
