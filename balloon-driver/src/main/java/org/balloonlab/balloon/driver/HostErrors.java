package org.balloonlab.balloon.driver;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The round's failed calls to the hypervisor: each is counted, the first of a streak is logged as a warning and
 * the rest quietly, so a hypervisor that is away for a while leaves one line, not one a round. A round that reads
 * its target ends the streak. Owned by the thread that runs the rounds.
 */
final class HostErrors {
  private static final Logger log = LoggerFactory.getLogger(BalloonDriver.class);

  private final DriverCounters counters;
  private final String vmName;
  private int streak;

  HostErrors(DriverCounters counters, String vmName) {
    this.counters = counters;
    this.vmName = vmName;
  }

  /** Counts a failed call; answers how many failed in a row, this one included. */
  int count(BalloonHostException e, String during) {
    counters.hostErrors.increment();
    if (streak++ == 0) {
      log.warn("balloon driver of {}: the hypervisor failed ({}, {}): {}", vmName, during, e.kind(), e.getMessage());
    } else {
      log.debug("balloon driver of {}: the hypervisor failed again ({}, {})", vmName, during, e.kind(), e);
    }
    return streak;
  }

  /** A call went through: the streak is over. */
  void clear() {
    streak = 0;
  }
}
