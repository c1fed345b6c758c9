package org.balloonlab.lab.scenario;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

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
}
