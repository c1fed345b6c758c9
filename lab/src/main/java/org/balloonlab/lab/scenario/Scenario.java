package org.balloonlab.lab.scenario;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A lab: a hypervisor, its guests, what happens to them when, and how long it runs. Read from a file by
 * {@link ScenarioParser}, or built in code by the commands that make their lab from their own options; run by the
 * lab's launcher.
 *
 * @param name names the run's folder
 * @param source the file it came from (for messages), or a description
 * @param description what the scenario teaches, from its {@code description} field (may be empty)
 * @param hypervisor the hypervisor
 * @param guests the guests, in order
 * @param actions scheduled actions, by time
 * @param duration how long the run lasts once the guests are up; for guests that end by themselves, the most it
 *     may last
 * @param report what the report holds
 */
public record Scenario(String name, String source, String description, HypervisorSpec hypervisor,
                       List<GuestSpec> guests, List<ScheduledAction> actions, Duration duration, ReportSpec report) {

  /**
   * What the report at the end of a run holds.
   *
   * @param sampleInterval how often the lab is sampled (and the live view refreshed)
   * @param plots whether to draw the plots
   * @param directory the folder under which the run's folder is made
   */
  public record ReportSpec(Duration sampleInterval, boolean plots, String directory) {
    public static final ReportSpec DEFAULT = new ReportSpec(Duration.ofSeconds(1), true, "runs");
  }

  public Optional<GuestSpec> guest(String vmName) {
    return guests.stream().filter(g -> g.name().equals(vmName)).findFirst();
  }

  /**
   * The same lab with only its first {@code n} guests, for a reduced run (an experiment's {@code --vms}): the
   * actions of the guests left out are dropped, and when the first guest left out would have been started by a
   * scheduled {@code start}, the run ends at that instant, so a lab whose guests start one after another stops
   * where the next one would have come. A lab whose guests all start with it keeps its duration.
   *
   * @throws IllegalArgumentException if {@code n} is not from 1 to the number of guests
   */
  public Scenario firstGuests(int n) {
    if (n < 1 || n > guests.size()) {
      throw new IllegalArgumentException(name + " has " + guests.size() + " guests; cannot keep the first " + n);
    }
    if (n == guests.size()) {
      return this;
    }
    List<GuestSpec> kept = List.copyOf(guests.subList(0, n));
    Set<String> names = kept.stream().map(GuestSpec::name).collect(Collectors.toSet());
    String next = guests.get(n).name();
    Duration end = actions.stream()
        .filter(a -> a.kind() == ScheduledAction.Kind.START && a.vm().equals(next) && !a.at().isZero())
        .map(ScheduledAction::at).min(Duration::compareTo).orElse(duration);
    List<ScheduledAction> keptActions = actions.stream()
        .filter(a -> (a.vm().isEmpty() || names.contains(a.vm())) && a.at().compareTo(end) < 0).toList();
    return new Scenario(name, source + " (its first " + n + " guests)", description, hypervisor, kept, keptActions, end,
        report);
  }
}
