package org.balloonlab.hypervisor.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class FreeMemoryThresholdsTest {
  private static final long FRAMES = 10_000;
  private final FreeMemoryThresholds esx = FreeMemoryThresholds.ESX;

  private FreeMemoryState after(FreeMemoryState from, double percentFree) {
    return esx.next(from, (long) (FRAMES * percentFree / 100), FRAMES);
  }

  @Test
  void fallingEntersEachStateBelowItsThreshold() {
    assertEquals(FreeMemoryState.HIGH, after(FreeMemoryState.HIGH, 5));
    assertEquals(FreeMemoryState.SOFT, after(FreeMemoryState.HIGH, 3.9));
    assertEquals(FreeMemoryState.HARD, after(FreeMemoryState.HIGH, 1.9));
    assertEquals(FreeMemoryState.LOW, after(FreeMemoryState.HIGH, 0.5));
    assertEquals(FreeMemoryState.HARD, after(FreeMemoryState.SOFT, 1.5));
  }

  @Test
  void climbingNeedsTheHigherThresholdOrTheHysteresis() {
    // Soft is left for high only at the high threshold, not just above soft.
    assertEquals(FreeMemoryState.SOFT, after(FreeMemoryState.SOFT, 5.9));
    assertEquals(FreeMemoryState.HIGH, after(FreeMemoryState.SOFT, 6));
    // Hard is left at hard + hysteresis (3 %), low at low + hysteresis (2 %).
    assertEquals(FreeMemoryState.HARD, after(FreeMemoryState.HARD, 2.5));
    assertEquals(FreeMemoryState.SOFT, after(FreeMemoryState.HARD, 3.5));
    assertEquals(FreeMemoryState.LOW, after(FreeMemoryState.LOW, 1.5));
    assertEquals(FreeMemoryState.HARD, after(FreeMemoryState.LOW, 2.5));
    // A big jump climbs several states at once.
    assertEquals(FreeMemoryState.HIGH, after(FreeMemoryState.LOW, 20));
  }

  @Test
  void targetIsHighPlusHysteresis() {
    assertEquals(700, esx.targetFreeFrames(FRAMES));
    assertEquals(100, esx.hysteresisFrames(FRAMES));
  }

  @Test
  void badThresholdsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new FreeMemoryThresholds(4, 6, 2, 1, 1));
    assertThrows(IllegalArgumentException.class, () -> new FreeMemoryThresholds(6, 4, 2, 2, 1));
    assertThrows(IllegalArgumentException.class, () -> new FreeMemoryThresholds(6, 4, 2, -1, 1));
    assertThrows(IllegalArgumentException.class, () -> new FreeMemoryThresholds(6, 4, 2, 1, -1));
    assertThrows(IllegalArgumentException.class, () -> new FreeMemoryThresholds(99, 4, 2, 1, 2));
  }
}
