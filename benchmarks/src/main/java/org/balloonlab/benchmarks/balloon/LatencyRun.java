package org.balloonlab.benchmarks.balloon;

import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.balloonlab.balloon.driver.BalloonDriver;
import org.balloonlab.balloon.driver.DriverStats;
import org.balloonlab.benchmarks.FigureTable;
import org.balloonlab.benchmarks.Medians;

/**
 * The reaction-delay part: a fresh guest with the default driver, its target raised by {@code --latency-step}
 * pages at a time, {@code --latency-reps} times; the delay from the {@code SetBalloonTarget} call to the first
 * page locked, with the doorbell and with polling alone (the driver's host hides the doorbell).
 *
 * <p>Before each change the harness waits a random time (under 20 ms with the doorbell, under one poll interval
 * without) so the changes fall at random points of the driver's poll cycle. With the doorbell, 20 untimed changes
 * come first, as a warm-up.
 */
final class LatencyRun {
  /**
   * The delays of one series, in nanoseconds.
   *
   * @param steps per step of {@link #STEPS}, per change: the step's share of the delay, -1 where it did not happen
   * @param getVmNanos back-to-back GetVm calls after the series, for scale
   */
  record Latency(boolean doorbell, long[] firstLockNanos, long[] setCallNanos, long doorbellRings, long rounds,
                 long[][] steps, long[] getVmNanos) {}

  /** The steps of a reaction, each timed from the end of the one before. */
  static final String[] STEPS = {"ring", "worker wakes", "GetTarget", "allocate", "Lock"};

  private final BalloonOptions options;
  private final BalloonHarness harness;
  private final Consumer<String> progress;

  LatencyRun(BalloonOptions options, BalloonHarness harness, Consumer<String> progress) {
    this.options = options;
    this.harness = harness;
    this.progress = progress;
  }

  /** Measures one series on a guest of its own, with the doorbell or with polling alone. */
  Latency measure(boolean doorbell) throws Exception {
    String name = doorbell ? "latency-doorbell" : "latency-poll";
    BalloonDriver.Config config = options.driverConfig(name);
    BalloonGuest g = harness.boot(name, config, doorbell);
    Operator operator = harness.operator();
    SplittableRandom random = new SplittableRandom(options.seed * 31 + (doorbell ? 1 : 2));
    long jitterNanos = doorbell ? TimeUnit.MILLISECONDS.toNanos(20) : options.poll.toNanos();
    int reps = options.latencyReps;
    int step = options.latencyStep;
    try {
      progress.accept(name + ": default driver (batch " + config.batchPages() + ", poll "
          + FigureTable.duration(options.poll) + ", " + (doorbell ? "doorbell" : "no doorbell: polling only") + "); "
          + reps + " target changes of +" + step + " page(s), each after a random wait under "
          + FigureTable.duration(Duration.ofNanos(jitterNanos)));
      long goal = 0;
      int warmups = doorbell ? 20 : 0;
      long[] delays = new long[reps];
      long[] setCalls = new long[reps];
      long[][] steps = new long[STEPS.length][reps];
      DriverStats s0 = null;
      for (int i = -warmups; i < reps; i++) {
        if (i == 0) {
          s0 = g.driver().stats();
        }
        TimeUnit.NANOSECONDS.sleep(random.nextLong(jitterNanos));
        InstrumentedBalloonHost host = g.host();
        long before = host.counts().pagesLocked();
        goal += step;
        host.watch(true, before + step);
        long t0 = System.nanoTime();
        operator.setBalloonTarget(g.vmId(), goal);
        long setCall = System.nanoTime() - t0;
        long previous = goal - step;
        long seen = options.observesByGetVm()
            ? operator.awaitBalloonSize(g.vmId(), p -> p > previous, options.timeout) : 0;
        long[] w = host.awaitWatch(options.timeout.toNanos());
        if (w != null && seen > 0) {
          w[0] = seen;
        }
        if (w == null) {
          throw new IllegalStateException(name + ": no page locked within " + options.timeout.toSeconds()
              + " s of target " + goal + "; driver " + g.driver().stats());
        }
        if (i >= 0) {
          delays[i] = w[0] - t0;
          setCalls[i] = setCall;
          // t0 -> ring (doorbell only) -> GetTarget starts -> GetTarget answered -> Lock starts -> Lock answered.
          long ring = w[2] != 0 ? w[2] : t0;
          steps[0][i] = w[2] != 0 ? w[2] - t0 : 0;
          steps[1][i] = w[3] != 0 ? w[3] - ring : -1;
          steps[2][i] = w[3] != 0 ? w[4] - w[3] : -1;
          steps[3][i] = w[3] != 0 && w[5] != 0 ? w[5] - w[4] : -1;
          steps[4][i] = w[5] != 0 ? w[0] - w[5] : -1;
        }
      }
      if (!operator.confirmBalloonSize(g.vmId(), goal)) {
        throw new IllegalStateException(name + ": the hypervisor's balloon is not at " + goal + " pages");
      }
      DriverStats s1 = g.driver().stats();
      long[] getVm = new long[50];
      for (int i = 0; i < getVm.length; i++) {
        long t0 = System.nanoTime();
        operator.getVm(g.vmId());
        getVm[i] = System.nanoTime() - t0;
      }
      progress.accept(String.format(Locale.ROOT, "  first locked page after median %.2f ms, max %.2f ms",
          Medians.of(delays) / 1e6, Arrays.stream(delays).max().orElse(0) / 1e6));
      harness.audit(g);
      return new Latency(doorbell, delays, setCalls, s1.doorbellRings() - s0.doorbellRings(),
          s1.rounds() - s0.rounds(), steps, getVm);
    } finally {
      harness.release(g);
    }
  }
}
