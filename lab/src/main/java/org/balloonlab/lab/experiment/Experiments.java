package org.balloonlab.lab.experiment;

import java.util.List;
import java.util.Optional;

/**
 * The experiments BalloonLab ships, one class each beside its directory under {@code experiments/}. To add one:
 * a directory with its {@code experiment.yaml} and scenarios, a class implementing {@link Experiment}, and a line
 * here.
 */
public final class Experiments {
  private static final List<Experiment> ALL = List.of(new BalloonOverhead(), new IdleMemoryTax(),
      new BallooningVersusPaging(), new SharesAndMin(), new PageSharingBestCase());

  private Experiments() {}

  /** Every experiment, in the order {@code balloonlab experiment list} prints them. */
  public static List<Experiment> all() {
    return ALL;
  }

  /** The experiment of that name. */
  public static Optional<Experiment> named(String name) {
    return ALL.stream().filter(e -> e.name().equals(name)).findFirst();
  }
}
