package org.balloonlab.lab.scenario;

import java.time.Duration;
import java.util.List;
import org.balloonlab.domain.Pace;

/**
 * How the hypervisor of a scenario keeps the lab clock ({@code docs/lab-clock.md}): the hypervisor fields
 * {@code lab-clock}, {@code quantum}, {@code pace} and {@code straggler-grace}.
 *
 * <p>Unlike the other fields of a scenario, two have a default of the scenario's own, always passed on: a lab runs
 * in lockstep, so that its report depends on simulated time alone, and at pace {@code max}, as fast as the CPUs
 * allow (the hypervisor on its own paces its clock to the wall clock, for an operator typing commands).
 *
 * @param lockstep {@code false} for {@code lab-clock: free}: no quanta, nothing reproducible (for comparisons)
 * @param quantum lab time between two boundaries of the clock, or {@code null} for the hypervisor's default
 * @param pace {@code max} or a factor of the wall clock such as {@code 1x}, {@code 0.5x}, as {@code --pace} takes it
 * @param stragglerGrace wall time the clock waits for a VM that stops answering before it drops it, or
 *     {@code null}
 */
public record ClockSpec(boolean lockstep, Duration quantum, String pace, Duration stragglerGrace) {
  /** A lab's clock unless its scenario says otherwise: lockstep, as fast as the CPUs allow. */
  public static final ClockSpec DEFAULT = new ClockSpec(true, null, "max", null);

  /** Quanta a scenario may give the hypervisor (in whole milliseconds); its own default is 10 ms. */
  public static final Duration MIN_QUANTUM = Duration.ofMillis(1);
  public static final Duration MAX_QUANTUM = Duration.ofSeconds(10);

  /**
   * Reads a pace as a scenario writes it, by the hypervisor's own rule ({@link Pace}): {@code max}, or a positive
   * factor of the wall clock such as {@code 1x}, {@code 0.5x}, {@code 10x}.
   *
   * @return the pace as {@code --pace} takes it
   * @throws IllegalArgumentException for anything else
   */
  public static String parsePace(String text) {
    return Pace.parse(text).toString();
  }

  /** Adds the hypervisor's clock flags: always the mode and pace, the others when the scenario sets them. */
  void addFlags(List<String> flags) {
    HypervisorSpec.add(flags, "--lab-clock", lockstep ? "lockstep" : "free");
    HypervisorSpec.add(flags, "--quantum", quantum == null ? null : quantum.toMillis() + "ms");
    HypervisorSpec.add(flags, "--pace", pace);
    HypervisorSpec.add(flags, "--straggler-grace", stragglerGrace == null ? null : stragglerGrace.toMillis() + "ms");
  }
}
