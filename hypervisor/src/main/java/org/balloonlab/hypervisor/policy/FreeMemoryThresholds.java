package org.balloonlab.hypervisor.policy;

/**
 * The free-memory thresholds that move the machine between {@link FreeMemoryState}s, in percent of machine
 * memory, with hysteresis so that free memory hovering at a threshold does not flip the state back and forth.
 *
 * <p>Falling: the machine enters soft below {@code soft}, hard below {@code hard} and low below {@code low}.
 * Rising: it leaves soft for high only once free memory is back at {@code high} (ESX's 6 %), and leaves low or
 * hard only once free memory is {@code hysteresis} above the threshold that put it there. When the policy
 * reclaims, it aims at {@code high + hysteresis}, so that a reclaimed machine sits clear of the soft threshold.
 *
 * <p>The defaults are ESX's: 6, 4, 2 and 1 %, with one point of hysteresis.
 *
 * @param high free memory (percent) at or above which nothing is reclaimed
 * @param soft below it, ballooning
 * @param hard below it, hypervisor paging
 * @param low below it, paging and blocking
 * @param hysteresis percentage points above a threshold before the machine climbs back over it
 */
public record FreeMemoryThresholds(double high, double soft, double hard, double low, double hysteresis) {
  public static final FreeMemoryThresholds ESX = new FreeMemoryThresholds(6, 4, 2, 1, 1);

  public FreeMemoryThresholds {
    if (!(low >= 0 && low < hard && hard < soft && soft < high && high < 100)) {
      throw new IllegalArgumentException("free-memory thresholds must satisfy 0 <= low < hard < soft < high < 100,"
          + " got high " + high + ", soft " + soft + ", hard " + hard + ", low " + low);
    }
    if (!(hysteresis >= 0 && high + hysteresis < 100)) {
      throw new IllegalArgumentException("the hysteresis must be from 0 to " + (100 - high) + " points, got "
          + hysteresis);
    }
  }

  /** The state after {@code current} when {@code freeFrames} of {@code frames} are free. */
  public FreeMemoryState next(FreeMemoryState current, long freeFrames, long frames) {
    double free = 100.0 * freeFrames / frames;
    FreeMemoryState falling = free < low ? FreeMemoryState.LOW : free < hard ? FreeMemoryState.HARD
        : free < soft ? FreeMemoryState.SOFT : FreeMemoryState.HIGH;
    if (falling.ordinal() >= current.ordinal()) {
      return falling;
    }
    // Climbing: each state is left only once free memory clears its exit point.
    FreeMemoryState state = current;
    while (state != FreeMemoryState.HIGH && free >= exitPercent(state)) {
      state = FreeMemoryState.values()[state.ordinal() - 1];
    }
    return state.ordinal() < falling.ordinal() ? falling : state;
  }

  private double exitPercent(FreeMemoryState state) {
    return switch (state) {
      case SOFT -> high;
      case HARD -> hard + hysteresis;
      case LOW -> low + hysteresis;
      case HIGH -> 0;
    };
  }

  /** Free frames the policy aims for when it reclaims: {@code high + hysteresis} percent of the machine. */
  public long targetFreeFrames(long frames) {
    return (long) Math.ceil(frames * (high + hysteresis) / 100.0);
  }

  /** Free frames one point of hysteresis stands for: the band kept between reclaiming and giving back. */
  public long hysteresisFrames(long frames) {
    return (long) Math.ceil(frames * hysteresis / 100.0);
  }
}
